package io.meshegress.observe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.meshegress.text.Quote;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;

/** The two access-log line formats: JSON (the default, for log pipelines) and text (for people). */
public final class AccessLogFormats {
    private static final JsonFactory JSON = new JsonFactory();

    private AccessLogFormats() {
    }

    public static String json(AccessEntry e) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            json(e, g);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }

    /** Creates the generator the access-log writer keeps for its whole life (one line per object). */
    static JsonGenerator generator(Writer out) throws IOException {
        JsonGenerator g = JSON.createGenerator(out);
        g.setRootValueSeparator(null); // the writer ends each line itself
        return g;
    }

    /** Writes one entry as a JSON object to a generator the caller keeps. */
    static void json(AccessEntry e, JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("time", e.time().toString());
        g.writeStringField("listener", e.listener());
        g.writeStringField("client", e.client());
        if (e.peer() != null) {
            g.writeStringField("peer", e.peer());
        }
        g.writeStringField("role", e.role());
        g.writeStringField("kind", e.kind());
        g.writeStringField("host", e.host());
        g.writeNumberField("port", e.port());
        g.writeStringField("resolved", e.resolved());
        g.writeStringField("decision", e.decision());
        g.writeStringField("reason", e.reason());
        if (e.wouldRefuse() != null) {
            g.writeStringField("wouldRefuse", e.wouldRefuse());
        }
        g.writeNumberField("status", e.status());
        if (e.alert() != null) {
            g.writeStringField("alert", e.alert());
        }
        g.writeNumberField("bytesUp", e.bytesUp());
        g.writeNumberField("bytesDown", e.bytesDown());
        g.writeNumberField("durationMs", e.durationMs());
        g.writeEndObject();
    }

    /**
     * {@code time client kind host:port status decision "reason" resolved up down ms listener role=ROLE
     * [peer=IP:PORT] [would-refuse="reason"]}. Every field is
     * one line of visible text: control characters (which a reason may carry from a client, an upstream or a DNS
     * answer) are escaped, so no value can forge a line or drive a terminal.
     */
    public static String text(AccessEntry e) {
        return e.time() + " " + visible(e.client()) + " " + e.kind() + " " + visible(e.host()) + ":" + e.port() + " "
                + e.status() + (e.alert() != null ? "/" + visible(e.alert()) : "") + " " + e.decision() + " \""
                + visible(e.reason()).replace('"', '\'') + "\" " + (e.resolved() == null ? "-" : visible(e.resolved()))
                + " up=" + e.bytesUp() + " down=" + e.bytesDown() + " " + e.durationMs() + "ms "
                + visible(e.listener()).replace(' ', ':') + " role=" + visible(e.role())
                + (e.peer() == null ? "" : " peer=" + visible(e.peer()))
                + (e.wouldRefuse() == null ? "" : " would-refuse=\"" + visible(e.wouldRefuse()).replace('"', '\'') + "\"");
    }

    private static String visible(String s) {
        return s == null ? "-" : Quote.escapeControls(s);
    }
}
