package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import java.net.InetAddress;
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

    static String line(String kind, String host, int port, String wouldRefuse) {
        return line(Instant.parse("2026-12-01T10:00:00Z"), host, port).replace("\"kind\":\"http\"",
                "\"kind\":\"" + kind + "\"").replace("\"reason\":\"x\"", "\"reason\":\"x\""
                + (wouldRefuse == null ? "" : ",\"wouldRefuse\":\"" + wouldRefuse + "\""));
    }

    /**
     * A newcomer's case: api.stripe.com was granted on 443 only (a mesh destination), the log shows CONNECTs to it
     * on 443, and the policy section learn printed, pasted in as the docs say, allowed plain HTTP to
     * api.stripe.com:22. The learned file must refuse that on every listener kind, and still allow what was seen.
     */
    @Test
    void theLearnedPolicyNeverOpensAPortTheTrafficDidNotShow() throws Exception {
        String base = """
                http:
                  listen: "127.0.0.1:8080"
                  connectPorts: [443]
                sni:
                  - listen: "127.0.0.1:8443"
                    upstreamPort: 443
                admin: null
                mesh:
                  destinations:
                    - hosts: ["api.stripe.com"]
                      tls: [443]
                """;
        Path old = Files.writeString(dir.resolve("old.yaml"), base + """
                policy:
                  mode: report
                  allow: ["files.example.com"]
                """);
        Path log = Files.write(dir.resolve("access.log"), List.of(line("connect", "api.stripe.com", 443, null),
                line("http", "files.example.com", 80, null),
                line("http", "new.example.com", 8080, "refused by policy.allow (new.example.com matches no allow pattern)")));
        CliRun learn = CliRun.of("learn", "-c", old.toString(), log.toString());
        assertThat(learn.status()).as(learn.err()).isZero();
        Path learned = Files.writeString(dir.resolve("learned.yaml"), base + learn.out());
        RouteTable routes = new RouteTable(ConfigLoader.load(learned));
        InetAddress client = InetAddress.getByName("127.0.0.1");
        for (Destination.Kind kind : Destination.Kind.values()) {
            for (int port : new int[] {22, 80, 8080, 8443}) {
                assertThat(routes.decide(client, kind, "api.stripe.com", port).allowed())
                        .as(kind + " api.stripe.com:" + port + "\n" + learn.out()).isFalse();
            }
            assertThat(routes.decide(client, kind, "files.example.com", 22).allowed()).as(kind.toString()).isFalse();
            assertThat(routes.decide(client, kind, "new.example.com", 80).allowed()).as(kind.toString()).isFalse();
        }
        assertThat(routes.decide(client, Destination.Kind.CONNECT, "api.stripe.com", 443).allowed()).isTrue();
        assertThat(routes.decide(client, Destination.Kind.HTTP, "files.example.com", 80).allowed()).isTrue();
        assertThat(routes.decide(client, Destination.Kind.HTTP, "new.example.com", 8080).allowed()).isTrue();
        // check says the same, in the access log's words.
        CliRun check = CliRun.of("check", "-c", learned.toString(), "api.stripe.com:22");
        assertThat(check.out()).contains("refused").doesNotContain("allowed by policy.allow");
    }
}
