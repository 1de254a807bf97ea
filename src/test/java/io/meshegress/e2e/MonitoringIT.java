package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard and the alerts against a real Prometheus server: it scrapes the built jar's /metrics while real
 * traffic runs (allowed and refused requests, a report-mode role, a TLS tunnel, DNS answers, a reload), loads
 * deploy/prometheus/rules.yaml, and every query of deploy/grafana/mesh-egress.json must evaluate without error
 * and return series.
 */
class MonitoringIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROMETHEUS = "http://127.0.0.152:9090";
    final HttpClient http = HttpClient.newHttpClient();

    static String config(String dns, Path log, String extraAllow) {
        return """
                http: {listen: "127.0.0.150:8080"}
                sni: [{listen: "127.0.0.150:8443", upstreamPort: 10443}]
                admin: {listen: "127.0.0.150:9901"}
                resolver: {servers: ["%s"]}
                accessLog: {destination: "%s"}
                policy:
                  allow: ["*.qq.test"%s]
                  deny: [deny.qq.test]
                  denyNetworks: []
                  roles:
                    - {name: trial, clients: ["127.0.0.153/32"], allow: [], mode: report}
                mesh: {destinations: []}
                """.formatted(dns, log, extraAllow);
    }

    @Test
    void everyDashboardQueryReturnsSeriesAndTheRulesLoad(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.151");
             HttpOrigin origin = new HttpOrigin("127.0.0.151", 8081);
             TlsOrigin tls = new TlsOrigin("127.0.0.151", 10443, pki)) {
            Path file = Files.writeString(dir.resolve("egress.yaml"), config(dns.configAddress(),
                    dir.resolve("access.log"), ""));
            Path prom = Files.writeString(dir.resolve("prometheus.yml"), """
                    global: {scrape_interval: 1s, evaluation_interval: 1s}
                    rule_files: ["%s"]
                    scrape_configs:
                      - job_name: mesh-egress
                        static_configs: [{targets: ["127.0.0.150:9901"]}]
                    """.formatted(Path.of("deploy/prometheus/rules.yaml").toAbsolutePath()));
            Process prometheus = new ProcessBuilder("prometheus", "--config.file=" + prom,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.152:9090")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try (JarProcess proxy = JarProcess.start("run", "-c", file.toString())) {
                proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.150:9901"));
                traffic(pki);
                // A reload, so that the reload panel has its series.
                Files.writeString(file, config(dns.configAddress(), dir.resolve("access.log"), ", other.test"));
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> proxy.err().stream()
                        .anyMatch(l -> l.contains("reloaded ")));
                traffic(pki);
                List<String> queries = new ArrayList<>();
                JsonNode dashboard = JSON.readTree(Path.of("deploy/grafana/mesh-egress.json").toFile());
                Map<String, String> variables = variables(dashboard);
                assertThat(variables).containsEntry("job", "mesh-egress").containsEntry("instance", ".*")
                        .containsEntry("namespace", ".*");
                dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> queries.add(
                        asGrafana(t.path("expr").asText(), variables))));
                assertThat(queries).hasSizeGreaterThanOrEqualTo(12);
                for (String q : queries) {
                    JsonNode answer = Awaitility.await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
                            .until(() -> query(q), a -> !a.path("data").path("result").isEmpty()
                                    || a.path("status").asText().equals("error"));
                    assertThat(answer.path("status").asText()).as(q + " -> " + answer).isEqualTo("success");
                    assertThat(answer.path("data").path("result")).as(q).isNotEmpty();
                }
                JsonNode rules = get("/api/v1/rules");
                List<String> health = new ArrayList<>();
                rules.path("data").path("groups").forEach(g -> g.path("rules").forEach(r -> health.add(
                        r.path("name").asText() + "=" + r.path("health").asText())));
                assertThat(health).hasSize(8).allMatch(h -> h.endsWith("=ok"));
            } finally {
                prometheus.destroy();
                prometheus.waitFor();
            }
        }
    }

    static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*), *(\\w+)\\)");

    /**
     * The dashboard's query variables as Grafana sets them on first load: each {@code label_values(SELECTOR,
     * LABEL)} asked of Prometheus (earlier variables substituted), then the first value, or the "All" value where
     * the variable has one. The values each query found must include this proxy's.
     */
    private Map<String, String> variables(JsonNode dashboard) throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (!v.path("type").asText().equals("query")) {
                continue;
            }
            Matcher m = LABEL_VALUES.matcher(v.path("definition").asText());
            assertThat(m.matches()).as(v.toString()).isTrue();
            String match = asGrafana(m.group(1), values);
            JsonNode found = Awaitility.await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
                    .until(() -> get("/api/v1/label/" + m.group(2) + "/values?match[]="
                            + URLEncoder.encode(match, StandardCharsets.UTF_8)), a -> a.path("status").asText()
                            .equals("success") && (m.group(2).equals("namespace") || !a.path("data").isEmpty()));
            List<String> options = new ArrayList<>();
            found.path("data").forEach(x -> options.add(x.asText()));
            String name = v.path("name").asText();
            if (name.equals("job")) {
                assertThat(options).contains("mesh-egress");
            } else if (name.equals("instance")) {
                assertThat(options).contains("127.0.0.150:9901");
            }
            values.put(name, v.path("includeAll").asBoolean() ? v.path("allValue").asText() : options.get(0));
        }
        return values;
    }

    /**
     * A query as Grafana sends it: {@code $__rate_interval} is max($__interval + scrape interval, 4 x scrape
     * interval), 1m with the Prometheus data source's default scrape interval (15s) over this dashboard's hour;
     * each variable its value.
     */
    static String asGrafana(String expr, Map<String, String> variables) {
        String out = expr.replace("$__rate_interval", "1m");
        for (Map.Entry<String, String> v : variables.entrySet()) {
            out = out.replace("${" + v.getKey() + "}", v.getValue()).replace("$" + v.getKey(), v.getValue());
        }
        assertThat(out).as(expr).doesNotContain("$");
        return out;
    }

    /** Allowed and refused requests, one the report-mode role lets through, and a TLS tunnel. */
    private static void traffic(TestPki pki) throws Exception {
        for (String url : List.of("http://www.qq.test:8081/hello", "http://a.qq.test:8081/hello",
                "http://deny.qq.test:8081/hello")) {
            Command.run(List.of("curl", "-s", "-o", "/dev/null", "--max-time", "10", "-x", "http://127.0.0.150:8080", url));
        }
        Command c = Command.run(List.of("curl", "-s", "-o", "/dev/null", "--max-time", "10", "--interface",
                "127.0.0.153", "-x", "http://127.0.0.150:8080", "http://www.qq.test:8081/hello"));
        assertThat(c.exitCode()).isZero();
        assertThat(new TlsClients(pki.clientContext()).get(new InetSocketAddress("127.0.0.150", 8443), "t.qq.test",
                "/hello")).contains("sni=t.qq.test");
    }

    private JsonNode query(String q) throws Exception {
        return get("/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8));
    }

    private JsonNode get(String path) throws Exception {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(PROMETHEUS + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            return JSON.readTree("{\"status\":\"starting\",\"data\":{\"result\":[]}}");
        }
    }
}
