package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.MockCluster;
import io.meshegress.testing.TestDnsServer;
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
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workloads on the admin listener, against the built jar watching fabric8's mock API server (CRUD mode): pods in
 * two namespaces (two loopback addresses, curl {@code --interface}) are refused, and the status page, as headless
 * Chromium parses it, counts the refusals under each namespace and names the namespace on each row, while the
 * metrics keep the role as their only client label. {@code /explain?workload=} answers what
 * {@code check --workload} prints, says which namespace labels it assumed, and refuses bad syntax with a 400.
 */
class WorkloadStatusPageIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROXY = "127.0.0.170:8080";
    static final String ADMIN = "http://127.0.0.170:9901";
    static final String PAYMENTS_POD = "127.0.0.171";
    static final String SEARCH_POD = "127.0.0.172";
    static final String NO_POD = "127.0.0.173";
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void refusalsShowUnderTheirNamespaceAndExplainAnswersByWorkload(@TempDir Path dir) throws Exception {
        try (MockCluster cluster = MockCluster.start(dir);
             TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.174");
             HttpOrigin origin = new HttpOrigin("127.0.0.174", 8081)) {
            cluster.namespace("payments", Map.of("team", "pay"));
            cluster.namespace("search", Map.of("team", "search"));
            cluster.pod("payments", "api-1", "api", Map.of("app", "api"), PAYMENTS_POD);
            cluster.pod("search", "web-1", "web", Map.of("app", "web"), SEARCH_POD);
            Path config = Files.writeString(dir.resolve("egress.yaml"), """
                    http: {listen: "%s", connectPorts: [8081]}
                    admin: {listen: "127.0.0.170:9901"}
                    sni: null
                    resolver: {servers: ["%s"]}
                    identity:
                      kubernetes: {kubeconfig: "%s"}
                    policy:
                      allow: []
                      denyNetworks: []
                      roles:
                        - name: payments
                          workloads: [{namespace: payments, serviceAccount: api, podSelector: {app: api}}]
                          allow: [pay.qq.test]
                        - name: search
                          workloads:
                            - namespaceSelector:
                                matchExpressions: [{key: team, operator: In, values: [search]}]
                          allow: [search.qq.test]
                    mesh: {destinations: []}
                    """.formatted(PROXY, dns.configAddress(), cluster.kubeconfig()));
            try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
                proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.170:9901"));
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);

                assertThat(curl(PAYMENTS_POD, "http://pay.qq.test:8081/hello")).isEqualTo("200");
                assertThat(curl(PAYMENTS_POD, "http://search.qq.test:8081/hello")).isEqualTo("403");
                assertThat(curl(SEARCH_POD, "http://pay.qq.test:8081/hello")).isEqualTo("403");
                assertThat(curl(SEARCH_POD, "http://pay.qq.test:8081/again")).isEqualTo("403");
                assertThat(curl(NO_POD, "http://pay.qq.test:8081/hello")).isEqualTo("403");
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> getJson("/refusals", 200).size() == 4);

                String page = dom(dir, ADMIN + "/");
                Map<String, String> byNamespace = rows(section(page, "id=\"refusals-by-namespace\""));
                assertThat(byNamespace).containsExactly(Map.entry("search", "2"), Map.entry("payments", "1"),
                        Map.entry("(no pod)", "1"));
                String refusals = section(page, "id=\"refusals\"");
                assertThat(refusals).contains("<th>namespace</th>");
                assertThat(refusals).containsPattern(row(PAYMENTS_POD, "payments", "search.qq.test"));
                assertThat(refusals).containsPattern(row(SEARCH_POD, "search", "pay.qq.test"));
                assertThat(refusals).containsPattern(row(NO_POD, "", "pay.qq.test"));
                assertThat(page).doesNotContain("api-1").doesNotContain("web-1");
                // The filter finds a namespace, as the rows show it.
                assertThat(section(dom(dir, ADMIN + "/?filter=payments"), "id=\"refusals\"")).contains(PAYMENTS_POD)
                        .doesNotContain(SEARCH_POD);
                List<String> namespaces = new ArrayList<>();
                getJson("/refusals", 200).forEach(r -> namespaces.add(r.path("namespace").isNull() ? "none"
                        : r.path("namespace").asText()));
                assertThat(namespaces).containsExactlyInAnyOrder("payments", "search", "search", "none");

                String metrics = get("/metrics").body();
                assertThat(metrics).contains("role=\"search\"").doesNotContain("namespace=\"")
                        .doesNotContain("pod=\"").doesNotContain("api-1");

                // /explain by workload: what check --workload prints, and the labels it assumed.
                JsonNode pay = getJson("/explain?host=pay.qq.test&port=8081&workload=" + enc("payments/api?app=api"),
                        200);
                assertThat(pay.path("role").path("name").asText()).isEqualTo("payments");
                assertThat(pay.path("workload").path("namespaceLabels").toString())
                        .isEqualTo("{\"kubernetes.io/metadata.name\":\"payments\"}");
                List<String> checked = JarProcess.runToEnd("check", "-c", config.toString(), "--workload",
                        "payments/api?app=api", "pay.qq.test:8081").out();
                List<String> texts = new ArrayList<>();
                pay.path("routes").forEach(r -> texts.add(r.path("text").asText()));
                assertThat(texts).isNotEmpty()
                        .containsExactlyElementsOf(checked.stream().filter(l -> l.contains(" via ")).toList());
                assertThat(checked).contains(pay.path("workload").path("assumed").asText()
                        .replace("namespaceLabels=", "--namespace-labels"));

                // Namespace labels stated, and a pod at an address: the stated workload, not the watch, answers.
                JsonNode search = getJson("/explain?host=search.qq.test&port=8081&workload=other%2Fdefault"
                        + "&namespaceLabels=team%3Dsearch&client=" + PAYMENTS_POD, 200);
                assertThat(search.path("role").path("name").asText()).isEqualTo("search");
                assertThat(search.path("routes").get(0).path("allowed").asBoolean()).isTrue();
                assertThat(getJson("/explain?host=search.qq.test&port=8081&client=" + PAYMENTS_POD, 200)
                        .path("role").path("name").asText()).as("the watch names the address").isEqualTo("payments");
                // Without the team label, Kubernetes' own name label is all the namespace has: no role selects it.
                assertThat(getJson("/explain?host=search.qq.test&workload=other%2Fdefault", 200)
                        .path("role").path("name").asText()).isEqualTo("default");

                assertThat(getJson("/explain?host=pay.qq.test&workload=payments", 400).path("error").asText())
                        .isEqualTo("workload \"payments\": no service account (write NS/SA, e.g. payments/default "
                                + "for the namespace's default one) (expected NS/SA[?KEY=VALUE,...])");
                assertThat(getJson("/explain?host=pay.qq.test&namespaceLabels=a%3Db", 400).path("error").asText())
                        .isEqualTo("namespaceLabels describes the namespace of workload: give workload too");
                String hostile = "<script>alert(1)</script>/x";
                String query = "/?host=pay.qq.test&workload=" + enc(hostile);
                assertThat(get(query).body()).doesNotContain("<script");
                assertThat(section(dom(dir, ADMIN + query), "id=\"explanation\""))
                        .contains("workload \"&lt;script&gt;alert(1)&lt;/script&gt;/x\": namespace");
                String asked = dom(dir, ADMIN + "/?host=pay.qq.test&port=8081&workload=" + enc("payments/api?app=api"));
                assertThat(section(asked, "id=\"explanation\"")).contains("namespace payments assumed labelled "
                        + "kubernetes.io/metadata.name=payments").contains("workload payments/api?app=api: role payments");
            }
        }
    }

    /** A refusal row's client (with its port), namespace and host cells, as a pattern. */
    static String row(String client, String namespace, String host) {
        return "<td>" + Pattern.quote(client) + ":[0-9]+</td><td>" + Pattern.quote(namespace) + "</td><td>"
                + Pattern.quote(host) + "</td>";
    }

    /** The name and count of each row of a two-column table, in order. */
    static Map<String, String> rows(String table) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        Matcher m = Pattern.compile("<tr><td>(.*?)</td><td class=\"num\">([0-9,]+)</td></tr>").matcher(table);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    static String curl(String from, String url) throws Exception {
        return Command.run(List.of("curl", "-s", "-o", "/dev/null", "--max-time", "10", "--noproxy", "",
                "--interface", from, "-x", "http://" + PROXY, "-w", "%{http_code}", url)).out().trim();
    }

    int status(String path) throws Exception {
        return get(path).statusCode();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode getJson(String path, int status) throws Exception {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        return JSON.readTree(r.body());
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The page as Chromium parsed it. */
    static String dom(Path dir, String url) throws Exception {
        Command c = Command.run(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + dir.resolve("chromium-profile"), "--dump-dom", url));
        assertThat(c.out()).as(c.err()).contains("<h1>mesh-egress</h1>");
        return c.out();
    }

    /** From the element holding {@code marker} to the end of its table. */
    static String section(String page, String marker) {
        int at = page.indexOf(marker);
        assertThat(at).as(marker + " in page").isGreaterThanOrEqualTo(0);
        int end = page.indexOf("</table>", at);
        return page.substring(at, end < 0 ? page.length() : end);
    }
}
