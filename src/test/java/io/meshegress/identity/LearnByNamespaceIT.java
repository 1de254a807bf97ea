package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.MockCluster;
import io.meshegress.testing.TestDnsServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Report, learn per namespace, enforce, against the built jar: four pods in three namespaces (fabric8's mock API
 * server in CRUD mode, curl bound to each pod's loopback address) and a client that is no pod use the proxy in
 * report mode, once with the JSON access log and once with the text one; {@code learn --by namespace} proposes the
 * same roles from either, {@code check} loads them, and the proxy run on the learned file gives each namespace what
 * it reached and refuses it what another namespace reached. {@code --by serviceAccount} then splits a namespace.
 */
class LearnByNamespaceIT {
    static final String PROXY = "127.0.0.30:8080";
    static final String ADMIN = "http://127.0.0.30:9901";
    static final String PAY_API = "127.0.0.31";
    static final String PAY_BATCH = "127.0.0.32";
    static final String SEARCH = "127.0.0.33";
    static final String TOOLS = "127.0.0.34";
    static final String NO_POD = "127.0.0.35";
    final HttpClient http = HttpClient.newHttpClient();

    static String base(Path kubeconfig, String dns, Path log, String format) {
        return """
                http: {listen: "%s", connectPorts: [8081]}
                admin: {listen: "127.0.0.30:9901"}
                resolver: {servers: ["%s"]}
                identity:
                  kubernetes: {kubeconfig: "%s"}
                accessLog: {destination: "%s", format: %s}
                """.formatted(PROXY, dns, kubeconfig, log, format);
    }

    static final String REPORT_POLICY = """
            policy:
              mode: report
              allow: []
              denyNetworks: []
            """;

    /** Who reaches what: [client, way, host]; each pod's own traffic, once. */
    static final List<String[]> TRAFFIC = List.of(new String[] {PAY_API, "absolute", "pay.test"},
            new String[] {PAY_API, "connect", "stripe.test"}, new String[] {PAY_BATCH, "absolute", "batch.test"},
            new String[] {SEARCH, "connect", "search.test"}, new String[] {TOOLS, "absolute", "tools.test"},
            new String[] {NO_POD, "absolute", "mirror.test"});

    @Test
    void reportThenLearnByNamespaceThenEnforce(@TempDir Path dir) throws Exception {
        try (MockCluster cluster = MockCluster.start(dir);
             TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.test", "127.0.0.40");
             HttpOrigin origin = new HttpOrigin("127.0.0.40", 8081)) {
            for (String ns : List.of("payments", "search", "default")) {
                cluster.namespace(ns, Map.of());
            }
            cluster.pod("payments", "api-1", "api", Map.of("app", "api"), PAY_API);
            cluster.pod("payments", "batch-1", "batch", Map.of("app", "batch"), PAY_BATCH);
            cluster.pod("search", "web-1", "web", Map.of("app", "web"), SEARCH);
            cluster.pod("default", "tool-1", "default", Map.of(), TOOLS);

            Path jsonLog = dir.resolve("report.json.log");
            Path textLog = dir.resolve("report.text.log");
            Path report = dir.resolve("report.yaml");
            for (Path log : List.of(jsonLog, textLog)) {
                String format = log == jsonLog ? "json" : "text";
                Files.writeString(report, base(cluster.kubeconfig(), dns.configAddress(), log, format) + REPORT_POLICY);
                try (JarProcess proxy = JarProcess.start("run", "-c", report.toString())) {
                    proxy.awaitErr(l -> l.contains("listening: http " + PROXY));
                    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);
                    for (String[] t : TRAFFIC) {
                        assertThat(answer(t[0], t[1], t[2])).as(format + " " + String.join(" ", t)).isEqualTo("200");
                    }
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.readAllLines(log).size()
                            == TRAFFIC.size());
                }
            }
            assertThat(Files.readString(jsonLog)).contains("\"namespace\":\"default\",\"serviceAccount\":\"default\"");
            assertThat(Files.readString(textLog)).contains("namespace=payments service-account=batch pod=batch-1");

            String byJson = learn(report, "--by", "namespace", jsonLog.toString());
            String byText = learn(report, "--by", "namespace", textLog.toString());
            assertThat(byText).isEqualTo(byJson);
            assertThat(byJson).isEqualTo("""
                    policy:
                      mode: enforce  # was report
                      allow:
                        - {host: "mirror.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                      denyNetworks: []
                      clients: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10"]
                      roles:
                        # One role per namespace that reached something.
                        - name: "default-955361bb"  # namespace default
                          workloads: [{namespace: "default"}]
                          mode: enforce
                          allow:
                            - {host: "tools.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                        - name: "payments"  # namespace payments
                          workloads: [{namespace: "payments"}]
                          mode: enforce
                          allow:
                            - {host: "batch.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                            - {host: "pay.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                            - {host: "stripe.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                        - name: "search"  # namespace search
                          workloads: [{namespace: "search"}]
                          mode: enforce
                          allow:
                            - {host: "search.test", ports: [8081]}  # 1 connection, 1 allowed only by report mode
                    """);

            Path enforceLog = dir.resolve("enforce.log");
            Path learned = Files.writeString(dir.resolve("learned.yaml"),
                    base(cluster.kubeconfig(), dns.configAddress(), enforceLog, "json") + byJson);
            JarProcess check = JarProcess.runToEnd("check", "-c", learned.toString(), "pay.test:8081");
            assertThat(check.exitCode()).as(String.join("\n", check.err())).isZero();
            // check answers per workload from the file alone, as the proxy will.
            for (String[] q : new String[][] {{"payments/batch", "pay.test", "role payments", "allowed by"},
                    {"search/web", "pay.test", "role search", "refused"}, {"search/web", "search.test", "role search",
                    "allowed by"}, {"default/default", "tools.test", "role default-", "allowed by"},
                    {"default/default", "search.test", "role default-", "refused"},
                    {"other/default", "mirror.test", "role default (", "allowed by"}}) {
                JarProcess asked = JarProcess.runToEnd("check", "-c", learned.toString(), "--workload", q[0],
                        q[1] + ":8081");
                String said = String.join("\n", asked.out());
                assertThat(said).as(String.join(" ", q)).contains(q[2]).contains(q[3]);
                if (q[3].equals("refused")) {
                    assertThat(said).as(String.join(" ", q)).doesNotContain("allowed by");
                }
            }
            try (JarProcess proxy = JarProcess.start("run", "-c", learned.toString())) {
                proxy.awaitErr(l -> l.contains("listening: http " + PROXY));
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);
                for (String[] t : TRAFFIC) {
                    assertThat(answer(t[0], t[1], t[2])).as("enforce " + String.join(" ", t)).isEqualTo("200");
                }
                assertThat(answer(PAY_BATCH, "connect", "stripe.test")).as("one namespace, one role").isEqualTo("200");
                assertThat(answer(PAY_API, "absolute", "search.test")).isEqualTo("403");
                assertThat(answer(SEARCH, "absolute", "pay.test")).isEqualTo("403");
                assertThat(answer(TOOLS, "connect", "mirror.test")).isEqualTo("403");
                assertThat(answer(NO_POD, "absolute", "tools.test")).isEqualTo("403");
            }

            String bySa = learn(report, "--by", "serviceAccount", textLog.toString(), jsonLog.toString());
            assertThat(bySa).contains("""
                        - name: "payments-api"  # namespace payments, service account api
                          workloads: [{namespace: "payments", serviceAccount: "api"}]
                          mode: enforce
                          allow:
                            - {host: "pay.test", ports: [8081]}  # 2 connections, 2 allowed only by report mode
                            - {host: "stripe.test", ports: [8081]}  # 2 connections, 2 allowed only by report mode
                        - name: "payments-batch"  # namespace payments, service account batch
                          workloads: [{namespace: "payments", serviceAccount: "batch"}]
                          mode: enforce
                          allow:
                            - {host: "batch.test", ports: [8081]}  # 2 connections, 2 allowed only by report mode
                    """);
            Path splitLog = dir.resolve("split.log");
            Path split = Files.writeString(dir.resolve("split.yaml"),
                    base(cluster.kubeconfig(), dns.configAddress(), splitLog, "text") + bySa);
            try (JarProcess proxy = JarProcess.start("run", "-c", split.toString())) {
                proxy.awaitErr(l -> l.contains("listening: http " + PROXY));
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);
                assertThat(answer(PAY_BATCH, "absolute", "batch.test")).isEqualTo("200");
                assertThat(answer(PAY_BATCH, "connect", "stripe.test")).as("another service account").isEqualTo("403");
                assertThat(answer(PAY_API, "connect", "stripe.test")).isEqualTo("200");
            }
        }
    }

    /** The proposal {@code learn} prints, from its {@code policy:} line on (the lines above are its summary). */
    static String learn(Path config, String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "learn";
        all[1] = "-c";
        all[2] = config.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        JarProcess learn = JarProcess.runToEnd(all);
        assertThat(learn.exitCode()).as(String.join("\n", learn.err())).isZero();
        String out = String.join("\n", learn.out()) + "\n";
        return out.substring(out.indexOf("policy:\n"));
    }

    static String answer(String from, String way, String host) throws Exception {
        String url = "http://" + host + ":8081/hello";
        return way.equals("connect") ? WorkloadIdentityIT.curl(from, "-p", "-x", "http://" + PROXY, url)
                : WorkloadIdentityIT.curl(from, "-x", "http://" + PROXY, url);
    }

    int status(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
