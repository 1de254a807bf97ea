package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code learn} through the real command line, in-process. */
class LearnCommandTest {
    @TempDir
    Path dir;

    static String line(Instant time, String host, int port) {
        return "{\"time\":\"" + time + "\",\"listener\":\"http 127.0.0.1:8080\",\"client\":\"127.0.0.1:5555\","
                + "\"role\":\"default\",\"kind\":\"http\",\"host\":\"" + host + "\",\"port\":" + port
                + ",\"resolved\":\"192.0.2.1\",\"decision\":\"allowed\",\"reason\":\"x\",\"status\":200,"
                + "\"bytesUp\":1,\"bytesDown\":2,\"durationMs\":3}";
    }

    Path config() throws Exception {
        return Files.writeString(dir.resolve("config.yaml"), """
                http:
                  listen: "127.0.0.1:8080"
                policy:
                  allow: ["*.example.com"]
                """);
    }

    /** The README's own example: {@code --since 7d} takes the last seven days (7 x 24 h) and counts the rest. */
    @Test
    void sinceTakesDays() throws Exception {
        Instant now = Instant.now();
        Path log = Files.write(dir.resolve("access.log"), List.of(
                line(now.minus(Duration.ofDays(3)), "recent.example.com", 80),
                line(now.minus(Duration.ofHours(7 * 24 - 1)), "edge.example.com", 80),
                line(now.minus(Duration.ofDays(8)), "old.example.com", 80)));
        CliRun r = CliRun.of("learn", "-c", config().toString(), "--since", "7d", log.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("recent.example.com").contains("edge.example.com")
                .doesNotContain("old.example.com");
        assertThat(r.err()).contains("3 lines read").contains("1 older than --since");

        CliRun tooLong = CliRun.of("learn", "-c", config().toString(), "--since", "101d", log.toString());
        assertThat(tooLong.status()).isEqualTo(2);
        assertThat(tooLong.err()).contains("--since: \"101d\" is longer than the longest duration, 100d");
    }
}
