package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsOrigin;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adopting mesh-egress safely, end to end against the built jar: run in report mode with real traffic (python3
 * through all three request kinds, more than 10,000 access-log lines, two client roles), let {@code learn} turn
 * the log into a policy, check accepts it, and the same traffic replayed in enforce mode is never refused.
 */
class LearnIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROXY = "127.0.0.90";
    static final String TEAM_CLIENT = "127.0.0.92";
    static final String DEFAULT_CLIENT = "127.0.0.93";

    /** Everything but the policy section, which learn writes. */
    static String base(String dns, Path log) {
        return """
                http:
                  listen: "127.0.0.90:8080"
                  connectPorts: [10443]
                sni:
                  - listen: "127.0.0.90:8443"
                    upstreamPort: 10443
                admin: null
                resolver:
                  servers: ["%s"]
                accessLog:
                  destination: "%s"
                mesh:
                  destinations: []
                """.formatted(dns, log);
    }

    static final String REPORT_POLICY = """
            policy:
              mode: report
              allow: []
              deny: ["*.evil.example.com"]
              denyNetworks: ["10.0.0.0/8"]
              roles:
                - name: team
                  clients: ["127.0.0.92/32"]
                  allow: [placeholder.example.com]
                  mode: report
            """;

    static String defaultPlan() {
        StringBuilder plan = new StringBuilder();
        for (int i = 1; i <= 8; i++) {
            plan.append("http h").append(i).append(".cdn.example.net 8081 1000\n");
        }
        return plan.append("http api.example.org 8081 1500\nconnect secure.example.org 10443 20\n")
                .append("sni sni.example.com 10443 20\n").toString();
    }

    static final String TEAM_PLAN = "http team.example.com 8081 500\nsni a.example.net 10443 20\n";
    static final int EXCHANGES = 8 * 1000 + 1500 + 20 + 20 + 500 + 20;

    @Test
    void reportThenLearnThenEnforceRefusesNothingOfTheSameTraffic(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.example.net", "127.0.0.91")
                .answer("*.example.org", "127.0.0.91").answer("*.example.com", "127.0.0.91");
             HttpOrigin http = new HttpOrigin("127.0.0.91", 8081);
             TlsOrigin tls = new TlsOrigin("127.0.0.91", 10443, pki)) {
            Path reportLog = dir.resolve("report.log");
            Path reportConfig = Files.writeString(dir.resolve("report.yaml"), base(dns.configAddress(), reportLog)
                    + REPORT_POLICY);
            List<JsonNode> reported = serve(reportConfig, reportLog);
            assertThat(reported).hasSizeGreaterThanOrEqualTo(10_000);
            assertThat(reported).allMatch(e -> e.get("decision").asText().equals("allowed"));
            assertThat(reported).anyMatch(e -> e.has("wouldRefuse"));

            // Half the log gzip'd (as logrotate leaves it), the rest plain with a line that is not the proxy's.
            List<String> lines = Files.readAllLines(reportLog);
            Path older = dir.resolve("report.log.1.gz");
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(older))) {
                out.write((String.join("\n", lines.subList(0, lines.size() / 2)) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            Path newer = dir.resolve("report.log.now");
            List<String> rest = new ArrayList<>(lines.subList(lines.size() / 2, lines.size()));
            rest.add(3, "2026-11-29 something else wrote here");
            Files.write(newer, rest);

            JarProcess learn = JarProcess.runToEnd("learn", "-c", reportConfig.toString(), "--collapse", "5",
                    older.toString(), newer.toString());
            assertThat(learn.exitCode()).as(String.join("\n", learn.err())).isZero();
            String learned = String.join("\n", learn.out()) + "\n";
            assertThat(String.join("\n", learn.err())).contains(lines.size() + 1 + " lines read")
                    .contains("1 not access-log lines (" + newer + ":4)");
            // Each entry on the ports it was reached on; a collapse only because --collapse asked for it.
            assertThat(learned).contains("- {host: \"*.example.net\", ports: [8081]}  # 8 names seen under example.net")
                    .contains("- {host: \"api.example.org\", ports: [8081]}")
                    .contains("- {host: \"secure.example.org\", ports: [10443]}")
                    .contains("- {host: \"sni.example.com\", ports: [10443]}").doesNotContain("*.com\"")
                    .doesNotContain("*.org\"");
            String teamPart = learned.substring(learned.indexOf("- name: \"team\""));
            assertThat(teamPart).contains("- {host: \"a.example.net\", ports: [10443]}")
                    .contains("- {host: \"team.example.com\", ports: [8081]}")
                    .contains("clients: [\"127.0.0.92/32\"]");

            Path enforceLog = dir.resolve("enforce.log");
            Path enforceConfig = Files.writeString(dir.resolve("learned.yaml"), base(dns.configAddress(), enforceLog)
                    + learned);
            JarProcess check = JarProcess.runToEnd("check", "-c", enforceConfig.toString(), "--client", TEAM_CLIENT,
                    "team.example.com:8081");
            assertThat(check.exitCode()).as(String.join("\n", check.err())).isZero();
            assertThat(String.join("\n", check.out())).contains("role team").contains("mode enforce");
            JarProcess elsewhere = JarProcess.runToEnd("check", "-c", enforceConfig.toString(), "--client",
                    TEAM_CLIENT, "team.example.com:22");
            assertThat(String.join("\n", elsewhere.out())).as("a port the traffic never showed")
                    .contains("port 22 is not one of its ports [8081]").doesNotContain("allowed by");

            List<JsonNode> enforced = serve(enforceConfig, enforceLog);
            assertThat(enforced).hasSize(reported.size());
            assertThat(enforced).allSatisfy(e -> {
                assertThat(e.get("decision").asText()).as(e.toString()).isEqualTo("allowed");
                assertThat(e.has("wouldRefuse")).as(e.toString()).isFalse();
            });
        }
    }

    /** Runs the jar on a config, sends both clients' traffic, and returns the access log once it is complete. */
    private static List<JsonNode> serve(Path config, Path log) throws Exception {
        try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
            proxy.awaitErr(l -> l.contains("listening: sni " + PROXY + ":8443"));
            Path script = Path.of(LearnIT.class.getResource("/io/meshegress/learn/traffic.py").toURI());
            for (String[] run : new String[][] {{DEFAULT_CLIENT, defaultPlan()}, {TEAM_CLIENT, TEAM_PLAN}}) {
                Command c = Command.run(List.of("python3", script.toString(), PROXY, run[0], run[1]));
                assertThat(c.exitCode()).as(c.err()).isZero();
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(log)
                    && Files.readAllLines(log).size() >= EXCHANGES);
            proxy.stop();
        }
        List<JsonNode> entries = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            entries.add(JSON.readTree(line));
        }
        return entries;
    }
}
