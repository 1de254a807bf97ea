package io.meshegress.observe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Access entries as one JSON object per line, through the {@code mesh-egress.access} logger (stdout). */
public final class JsonAccessLog implements AccessLog {
    private static final JsonFactory JSON = new JsonFactory();
    private static final Logger ACCESS = LoggerFactory.getLogger("mesh-egress.access");

    private final Consumer<String> sink;

    public JsonAccessLog() {
        this(ACCESS::info);
    }

    public JsonAccessLog(Consumer<String> sink) {
        this.sink = sink;
    }

    @Override
    public void log(AccessEntry e) {
        sink.accept(toJson(e));
    }

    public static String toJson(AccessEntry e) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", e.time().toString());
            g.writeStringField("listener", e.listener());
            g.writeStringField("client", e.client());
            g.writeStringField("kind", e.kind());
            g.writeStringField("host", e.host());
            g.writeNumberField("port", e.port());
            g.writeStringField("resolved", e.resolved());
            g.writeStringField("decision", e.decision());
            g.writeStringField("reason", e.reason());
            g.writeNumberField("status", e.status());
            if (e.alert() != null) {
                g.writeStringField("alert", e.alert());
            }
            g.writeNumberField("bytesUp", e.bytesUp());
            g.writeNumberField("bytesDown", e.bytesDown());
            g.writeNumberField("durationMs", e.durationMs());
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }
}
