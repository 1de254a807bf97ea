package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
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
import java.util.Arrays;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin status page in a real browser (headless Chromium, Debian's package) while curl drives traffic through
 * the built jar: a refused host appears with its rule, a hostile name shows as text and injects nothing, the
 * explain form answers exactly what {@code check} prints, a rejected reload is shown with its error. The JSON
 * endpoints answer the same. A screenshot of the page goes to target/status-page.png.
 */
class StatusPageIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ADMIN = "http://127.0.0.160:9901";
    final HttpClient http = HttpClient.newHttpClient();

    static String config(String dns) {
        return """
                http: {listen: "127.0.0.160:8080"}
                sni: null
                admin: {listen: "127.0.0.160:9901"}
                resolver: {servers: ["%s"]}
                policy:
                  allow: ["*.qq.test"]
                  deny: ["deny.qq.test"]
                  denyNetworks: []
                mesh: {destinations: []}
                """.formatted(dns);
    }

    @Test
    void thePageShowsRefusalsExplainsAndReportsARejectedReload(@TempDir Path dir) throws Exception {
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.161");
             HttpOrigin origin = new HttpOrigin("127.0.0.161", 8081)) {
            Path file = Files.writeString(dir.resolve("egress.yaml"), config(dns.configAddress()));
            try (JarProcess proxy = JarProcess.start("run", "-c", file.toString())) {
                proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.160:9901"));
                assertThat(curl("http://www.qq.test:8081/hello")).isEqualTo("200");
                assertThat(curl("http://deny.qq.test:8081/hello")).isEqualTo("403");
                // A name that is markup: refused as no host name, and its quoted bytes reach the page's rule column.
                assertThat(rawConnect("<script>alert(1)</script>.qq.test:443")).startsWith("HTTP/1.1 400");

                String page = dom(dir, ADMIN + "/");
                String refusals = section(page, "id=\"refusals\"");
                assertThat(refusals).contains("deny.qq.test").contains("refused by policy.deny[0]").contains("403");
                assertThat(refusals).contains("&lt;script&gt;alert(1)&lt;/script&gt;.qq.test");
                assertThat(page).doesNotContain("<script");
                assertThat(section(page, "id=\"listeners\"")).contains("<td>http</td>");
                assertThat(section(page, "id=\"configuration\"")).contains(file.toString()).contains("none");

                // The filter keeps what matches, and only that.
                String filtered = section(dom(dir, ADMIN + "/?filter=POLICY.DENY"), "id=\"refusals\"");
                assertThat(filtered).contains("deny.qq.test").doesNotContain("alert(1)");

                // The explain form answers what check prints, line for line.
                String explained = dom(dir, ADMIN + "/?host=" + enc("deny.qq.test") + "&port=443&client=127.0.0.9");
                List<String> checkLines = JarProcess.runToEnd("check", "-c", file.toString(), "--client", "127.0.0.9",
                        "deny.qq.test:443").out();
                List<String> verdicts = new ArrayList<>();
                for (String line : checkLines) {
                    if (line.contains(" via ")) {
                        verdicts.add(line.substring(line.indexOf(": ") + 2));
                    }
                }
                assertThat(verdicts).isNotEmpty();
                String table = section(explained, "id=\"explanation\"");
                for (String v : verdicts) {
                    assertThat(table).contains(v); // a serialized DOM escapes &lt; &gt; &amp; in text, not quotes
                }
                JsonNode json = getJson("/explain?host=deny.qq.test&port=443&client=127.0.0.9", 200);
                List<String> texts = new ArrayList<>();
                json.path("routes").forEach(r -> texts.add(r.path("text").asText()));
                assertThat(texts).containsExactlyElementsOf(checkLines.stream().filter(l -> l.contains(" via ")).toList());
                assertThat(getJson("/explain?host=%3Cscript%3E", 400).path("error").asText()).contains("is not HOST");

                JsonNode list = getJson("/refusals", 200);
                assertThat(list.get(0).path("host").isNull()).isTrue(); // newest first: the hostile one had no host
                assertThat(list.findValuesAsText("rule")).anyMatch(r -> r.startsWith("refused by policy.deny[0]"));

                // A broken reload is shown with its error; the old configuration keeps serving.
                Files.writeString(file, config(dns.configAddress()) + "policy: {bogus: 1}\n");
                Awaitility.await().atMost(Duration.ofSeconds(20))
                        .until(() -> proxy.err().stream().anyMatch(l -> l.contains("reload rejected")));
                String afterReload = dom(dir, ADMIN + "/");
                assertThat(section(afterReload, "id=\"configuration\"")).contains("id=\"rejection\"")
                        .contains(file.getFileName().toString());
                assertThat(curl("http://www.qq.test:8081/hello")).isEqualTo("200");

                Path shot = Path.of("target", "status-page.png").toAbsolutePath();
                Files.deleteIfExists(shot);
                Command s = chromium(dir, "--window-size=1280,1400", "--screenshot=" + shot, ADMIN + "/?host=deny.qq.test");
                assertThat(Files.size(shot)).as(s.err()).isGreaterThan(10_000);
                System.out.println("status page screenshot: " + shot);
            }
        }
    }

    private static String curl(String url) throws Exception {
        return Command.run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", "-x",
                "http://127.0.0.160:8080", url)).out();
    }

    /** A CONNECT written byte for byte (curl would refuse to send such an authority). */
    private static String rawConnect(String authority) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.160", 8080)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] head = new byte[12];
            int n = s.getInputStream().readNBytes(head, 0, head.length);
            return new String(head, 0, n, StandardCharsets.ISO_8859_1);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The page as Chromium parsed it (its DOM after loading), so escaping is judged by a browser. */
    private static String dom(Path dir, String url) throws Exception {
        Command c = chromium(dir, "--dump-dom", url);
        assertThat(c.out()).as(c.err()).contains("<h1>mesh-egress</h1>");
        return c.out();
    }

    private static Command chromium(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("chromium-profile")));
        cmd.addAll(Arrays.asList(args));
        return Command.run(cmd);
    }

    /** From the element holding {@code marker} to the end of its table or block. */
    private static String section(String page, String marker) {
        int at = page.indexOf(marker);
        assertThat(at).as(marker + " in page").isGreaterThanOrEqualTo(0);
        int end = page.indexOf("</table>", at);
        return page.substring(at, end < 0 ? page.length() : end);
    }

    private JsonNode getJson(String path, int status) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        return JSON.readTree(r.body());
    }
}
