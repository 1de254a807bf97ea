package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Access-log lines from hostile field values (a reason may quote a client's bytes, a host an IDN name, a
 * resolved address a DNS answer). Invariants: every JSON line is one line that parses as JSON and gives back
 * exactly the values written, and the writer's UTF-8 byte path writes the same line; every text line is one line of visible characters.
 */
class AccessLogFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest
    void entries(FuzzedDataProvider data) throws Exception {
        // Consumed in the order of the corpus's first version, the fields added later last.
        Instant time = Instant.ofEpochMilli(data.consumeLong(0, 4_102_444_800_000L));
        String listener = data.consumeString(100);
        String client = data.consumeString(60);
        String kind = data.pickValue(new String[] {"http", "connect", "sni"});
        String host = data.consumeBoolean() ? null : data.consumeString(300);
        int port = data.consumeInt(0, 65535);
        String resolved = data.consumeBoolean() ? null : data.consumeString(60);
        String decision = data.pickValue(new String[] {"allowed", "refused"});
        String reason = data.consumeString(500);
        int status = data.consumeInt(0, 599);
        String alert = data.consumeBoolean() ? null : data.consumeString(40);
        long up = data.consumeLong(0, Long.MAX_VALUE);
        long down = data.consumeLong(0, Long.MAX_VALUE);
        long ms = data.consumeLong(0, 1L << 40);
        String role = data.consumeString(64);
        String wouldRefuse = data.consumeBoolean() ? null : data.consumeString(300);
        String peer = data.consumeBoolean() ? null : data.consumeString(60);
        AccessEntry e = new AccessEntry(time, listener, client, peer, role, kind, host, port, resolved, decision, reason,
                wouldRefuse, status, alert, up, down, ms);
        String line = AccessLogFormats.json(e);
        assertThat(line).doesNotContain("\n").doesNotContain("\r");
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("reason").asText()).isEqualTo(e.reason());
        assertThat(n.get("client").asText()).isEqualTo(e.client());
        assertThat(n.get("role").asText()).isEqualTo(e.role());
        assertThat(n.has("peer") ? n.get("peer").asText() : null).isEqualTo(e.peer());
        assertThat(n.has("wouldRefuse") ? n.get("wouldRefuse").asText() : null).isEqualTo(e.wouldRefuse());
        assertThat(n.get("host").isNull() ? null : n.get("host").asText()).isEqualTo(e.host());
        assertThat(n.get("bytesUp").asLong()).isEqualTo(e.bytesUp());
        // The writer's own path (UTF-8 bytes straight from the generator) writes exactly that line.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = AccessLogFormats.generator(bytes)) {
            AccessLogFormats.json(e, g, new InstantText());
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(line);
        String text = AccessLogFormats.text(e);
        assertThat(text.chars().noneMatch(c -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)
                || c == 0x2028 || c == 0x2029)).as(text).isTrue();
    }
}
