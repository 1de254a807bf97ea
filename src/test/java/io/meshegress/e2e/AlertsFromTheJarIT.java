package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alerts on what the built jar really exports: /metrics scraped before and after a rejected reload, and
 * those samples, as Prometheus would have stored them (job and instance labels added), fed to
 * {@code promtool test rules} with deploy/prometheus/rules.yaml. MeshEgressReloadRejected must fire on the
 * process's first rejected reload, which it cannot if the failure counter is born at 1. The same scrapes carry
 * the JVM and process metrics and the build's version and commit, as the jar's manifest names them.
 */
class AlertsFromTheJarIT {
    static final String ADMIN = "127.0.0.217:9901";
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();

    static final String CONFIG = """
            http: {listen: "127.0.0.217:8080"}
            sni: [{listen: "127.0.0.217:8443", upstreamPort: 443}]
            admin: {listen: "%s"}
            policy:
              allow: ["a.test"]
              roles:
                - {name: trial, clients: ["127.0.0.218/32"], allow: [], mode: report}
            mesh: {destinations: []}
            """.formatted(ADMIN);

    @Test
    void theFirstRejectedReloadFiresTheAlertOnTheJarsOwnSamples(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
        Map<String, String> before;
        Map<String, String> after;
        try (JarProcess proxy = JarProcess.start("run", "-c", file.toString())) {
            proxy.awaitErr(l -> l.contains("listening: admin " + ADMIN));
            before = samples(scrape());
            Files.writeString(file, "policy:\n  alow: []\n");
            Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> proxy.err().stream().anyMatch(l -> l.contains("reload rejected")));
            after = samples(scrape());
        }
        assertThat(before).containsEntry("meshegress_config_reloads_total{result=\"failure\"}", "0.0");
        assertThat(after).containsEntry("meshegress_config_reloads_total{result=\"failure\"}", "1.0");

        Path tests = dir.resolve("rules-test.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tests.toFile(), promtoolTest(before, after));
        Command c = Command.run(List.of("promtool", "test", "rules", tests.toString()));
        assertThat(c.exitCode()).as(c.out() + c.err()).isZero();
    }

    @Test
    void jvmProcessAndBuildMetricsNameTheJarsVersionAndCommit(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
        String version;
        String commit;
        try (JarFile jar = new JarFile(JarProcess.jar().toFile())) {
            version = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
            commit = jar.getManifest().getMainAttributes().getValue("Build-Commit");
        }
        assertThat(commit).matches("[0-9a-f]{40}");
        try (JarProcess proxy = JarProcess.start("run", "-c", file.toString())) {
            proxy.awaitErr(l -> l.contains("listening: admin " + ADMIN));
            Map<String, String> s = samples(scrape());
            assertThat(Double.parseDouble(s.get("meshegress_build_info{commit=\"" + commit + "\",version=\"" + version
                    + "\"}"))).isEqualTo(1.0);
            for (String name : List.of("jvm_memory_used_bytes{", "jvm_gc_memory_allocated_bytes_total",
                    "jvm_threads_live_threads", "process_cpu_usage", "system_cpu_count", "process_files_open_files",
                    "process_files_max_files", "process_uptime_seconds", "process_start_time_seconds")) {
                assertThat(s.keySet()).as(name).anyMatch(k -> k.startsWith(name));
            }
            // Listener labels as a PromQL regex or a legend takes them.
            assertThat(s).containsKey("meshegress_tunnels_active{listener=\"sni-8443\"}")
                    .containsKey("meshegress_tunnels_active{listener=\"http\"}");
        }
    }

    /**
     * One promtool unit test: every meshegress_ series of the first scrape from 0m to 4m, of the second from 5m
     * on (a series missing from a scrape is "_", no sample), as job mesh-egress at the admin address.
     */
    static Map<String, Object> promtoolTest(Map<String, String> before, Map<String, String> after) {
        Set<String> names = new LinkedHashSet<>(before.keySet());
        names.addAll(after.keySet());
        List<Map<String, Object>> series = new ArrayList<>();
        series.add(Map.of("series", "up{job=\"mesh-egress\",instance=\"" + ADMIN + "\"}", "values", "1x10"));
        for (String name : names) {
            if (!name.startsWith("meshegress_")) {
                continue;
            }
            StringBuilder values = new StringBuilder();
            for (int minute = 0; minute <= 10; minute++) {
                String v = (minute < 5 ? before : after).get(name);
                values.append(minute == 0 ? "" : " ").append(v == null ? "_" : v);
            }
            series.add(Map.of("series", scraped(name), "values", values.toString()));
        }
        Map<String, Object> fired = Map.of("exp_labels", Map.of("severity", "warning", "job", "mesh-egress",
                "instance", ADMIN, "result", "failure"));
        Map<String, Object> test = new LinkedHashMap<>();
        test.put("interval", "1m");
        test.put("input_series", series);
        test.put("alert_rule_test", List.of(
                Map.of("eval_time", "4m", "alertname", "MeshEgressReloadRejected", "exp_alerts", List.of()),
                Map.of("eval_time", "7m", "alertname", "MeshEgressReloadRejected", "exp_alerts", List.of(withAnnotations(fired))),
                Map.of("eval_time", "7m", "alertname", "MeshEgressDown", "exp_alerts", List.of())));
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("rule_files", List.of(Path.of("deploy/prometheus/rules.yaml").toAbsolutePath().toString()));
        file.put("evaluation_interval", "1m");
        file.put("tests", List.of(test));
        return file;
    }

    private static Map<String, Object> withAnnotations(Map<String, Object> alert) {
        Map<String, Object> out = new LinkedHashMap<>(alert);
        out.put("exp_annotations", Map.of(
                "summary", "mesh-egress " + ADMIN + " rejected a configuration reload",
                "description", "The previous configuration keeps serving; the process log has the file:line:col of "
                        + "the problem (run `mesh-egress check -c FILE`)."));
        return out;
    }

    /** The series as Prometheus stores a scraped one: the target's job and instance labels added. */
    static String scraped(String name) {
        int brace = name.indexOf('{');
        String target = "job=\"mesh-egress\",instance=\"" + ADMIN + "\"";
        return brace < 0 ? name + "{" + target + "}" : name.substring(0, brace + 1) + target + ","
                + name.substring(brace + 1);
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + ADMIN + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** name{labels} → value as written, from the Prometheus text format. */
    static Map<String, String> samples(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) (\\S+)$").matcher(text);
        while (m.find()) {
            out.put(m.group(1).replace(",}", "}"), m.group(2));
        }
        return out;
    }
}
