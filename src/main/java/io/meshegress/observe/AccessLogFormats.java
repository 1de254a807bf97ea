package io.meshegress.observe;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.meshegress.text.Quote;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/** The two access-log line formats: JSON (the default, for log pipelines) and text (for people). */
public final class AccessLogFormats {
    // Characters outside the BMP go to the file as they are (4 UTF-8 bytes), as the character path always wrote
    // them; without this the UTF-8 generator escapes them as a \\u surrogate pair (AccessLogFuzzTest found it).
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    private AccessLogFormats() {
    }

    public static String json(AccessEntry e) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            json(e, g, new InstantText());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toString();
    }

    /**
     * Creates the generator the access-log writer keeps for its whole life (one line per object). It writes
     * UTF-8 bytes itself: no character encoder between it and the file.
     */
    static JsonGenerator generator(OutputStream out) throws IOException {
        JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8);
        g.setRootValueSeparator(null); // the writer ends each line itself
        return g;
    }

    // Field names encoded once, not per line.
    private static final SerializedString TIME = new SerializedString("time");
    private static final SerializedString LISTENER = new SerializedString("listener");
    private static final SerializedString CLIENT = new SerializedString("client");
    private static final SerializedString PEER = new SerializedString("peer");
    private static final SerializedString ROLE = new SerializedString("role");
    private static final SerializedString USER = new SerializedString("user");
    private static final SerializedString NAMESPACE = new SerializedString("namespace");
    private static final SerializedString SERVICE_ACCOUNT = new SerializedString("serviceAccount");
    private static final SerializedString POD = new SerializedString("pod");
    private static final SerializedString KIND = new SerializedString("kind");
    private static final SerializedString HOST = new SerializedString("host");
    private static final SerializedString PORT = new SerializedString("port");
    private static final SerializedString RESOLVED = new SerializedString("resolved");
    private static final SerializedString DECISION = new SerializedString("decision");
    private static final SerializedString REASON = new SerializedString("reason");
    private static final SerializedString WOULD_REFUSE = new SerializedString("wouldRefuse");
    private static final SerializedString STATUS = new SerializedString("status");
    private static final SerializedString ALERT = new SerializedString("alert");
    private static final SerializedString BYTES_UP = new SerializedString("bytesUp");
    private static final SerializedString BYTES_DOWN = new SerializedString("bytesDown");
    private static final SerializedString DURATION_MS = new SerializedString("durationMs");

    /** Writes one entry as a JSON object to a generator the caller keeps, its time formatted by {@code time}. */
    static void json(AccessEntry e, JsonGenerator g, InstantText time) throws IOException {
        g.writeStartObject();
        g.writeFieldName(TIME);
        g.writeString(time.chars(), 0, time.format(e.time()));
        string(g, LISTENER, e.listener());
        string(g, CLIENT, e.client());
        if (e.peer() != null) {
            string(g, PEER, e.peer());
        }
        string(g, ROLE, e.role());
        if (e.user() != null) {
            string(g, USER, e.user());
        }
        if (e.workload() != null) {
            string(g, NAMESPACE, e.workload().namespace());
            string(g, SERVICE_ACCOUNT, e.workload().serviceAccount());
            if (e.workload().pod() != null) {
                string(g, POD, e.workload().pod());
            }
        }
        string(g, KIND, e.kind());
        string(g, HOST, e.host());
        number(g, PORT, e.port());
        string(g, RESOLVED, e.resolved());
        string(g, DECISION, e.decision());
        string(g, REASON, e.reason());
        if (e.wouldRefuse() != null) {
            string(g, WOULD_REFUSE, e.wouldRefuse());
        }
        number(g, STATUS, e.status());
        if (e.alert() != null) {
            string(g, ALERT, e.alert());
        }
        number(g, BYTES_UP, e.bytesUp());
        number(g, BYTES_DOWN, e.bytesDown());
        number(g, DURATION_MS, e.durationMs());
        g.writeEndObject();
    }

    private static void string(JsonGenerator g, SerializedString name, String value) throws IOException {
        g.writeFieldName(name);
        g.writeString(value == null ? null : wellFormed(value)); // null is written as JSON null
    }

    /**
     * {@code s} with every unpaired surrogate replaced by U+FFFD. The UTF-8 generator refuses to encode one (and
     * would leave half a line behind); a config string may carry one from a YAML escape such as {@code "\\uD800"}.
     */
    static String wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return replaceUnpaired(s, i);
            }
        }
        return s;
    }

    private static String replaceUnpaired(String s, int from) {
        StringBuilder b = new StringBuilder(s.length()).append(s, 0, from);
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return b.toString();
    }

    private static void number(JsonGenerator g, SerializedString name, long value) throws IOException {
        g.writeFieldName(name);
        g.writeNumber(value);
    }

    /**
     * {@code time client kind host:port status decision "reason" resolved up down ms listener role=ROLE
     * [user=USER] [namespace=NS service-account=SA [pod=POD]] [peer=IP:PORT] [would-refuse="reason"]}. Every field is
     * one line of visible text: control characters (which a reason may carry from a client, an upstream or a DNS
     * answer) are escaped, so no value can forge a line or drive a terminal.
     */
    public static String text(AccessEntry e) {
        return e.time() + " " + visible(e.client()) + " " + e.kind() + " " + visible(e.host()) + ":" + e.port() + " "
                + e.status() + (e.alert() != null ? "/" + visible(e.alert()) : "") + " " + e.decision() + " \""
                + visible(e.reason()).replace('"', '\'') + "\" " + (e.resolved() == null ? "-" : visible(e.resolved()))
                + " up=" + e.bytesUp() + " down=" + e.bytesDown() + " " + e.durationMs() + "ms "
                + visible(e.listener()).replace(' ', ':') + " role=" + visible(e.role())
                + (e.user() == null ? "" : " user=" + visible(e.user()).replace(' ', '_'))
                + (e.workload() == null ? "" : " namespace=" + visible(e.workload().namespace()) + " service-account="
                        + visible(e.workload().serviceAccount())
                        + (e.workload().pod() == null ? "" : " pod=" + visible(e.workload().pod())))
                + (e.peer() == null ? "" : " peer=" + visible(e.peer()))
                + (e.wouldRefuse() == null ? "" : " would-refuse=\"" + visible(e.wouldRefuse()).replace('"', '\'') + "\"");
    }

    private static String visible(String s) {
        return s == null ? "-" : Quote.escapeControls(s);
    }
}
