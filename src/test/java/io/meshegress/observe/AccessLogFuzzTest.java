package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;

/**
 * Access-log lines from hostile field values (a reason may quote a client's bytes, a host an IDN name, a
 * resolved address a DNS answer). Invariants: every JSON line is one line that parses as JSON and gives back
 * exactly the values written; every text line is one line of visible characters.
 */
class AccessLogFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest
    void entries(FuzzedDataProvider data) throws Exception {
        AccessEntry e = new AccessEntry(Instant.ofEpochMilli(data.consumeLong(0, 4_102_444_800_000L)),
                data.consumeString(100), data.consumeString(60), data.pickValue(new String[] {"http", "connect", "sni"}),
                data.consumeBoolean() ? null : data.consumeString(300), data.consumeInt(0, 65535),
                data.consumeBoolean() ? null : data.consumeString(60), data.pickValue(new String[] {"allowed", "refused"}),
                data.consumeString(500), data.consumeInt(0, 599), data.consumeBoolean() ? null : data.consumeString(40),
                data.consumeLong(0, Long.MAX_VALUE), data.consumeLong(0, Long.MAX_VALUE), data.consumeLong(0, 1L << 40));
        String line = AccessLogFormats.json(e);
        assertThat(line).doesNotContain("\n").doesNotContain("\r");
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("reason").asText()).isEqualTo(e.reason());
        assertThat(n.get("client").asText()).isEqualTo(e.client());
        assertThat(n.get("host").isNull() ? null : n.get("host").asText()).isEqualTo(e.host());
        assertThat(n.get("bytesUp").asLong()).isEqualTo(e.bytesUp());
        String text = AccessLogFormats.text(e);
        assertThat(text.chars().noneMatch(c -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)
                || c == 0x2028 || c == 0x2029)).as(text).isTrue();
    }
}
