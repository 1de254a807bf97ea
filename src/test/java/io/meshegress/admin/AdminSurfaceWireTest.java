package io.meshegress.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.testing.ProxyUnderTest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The admin listener over the real wire, in-process: who may read the pages, and the headers and bodies of
 * every kind of answer. The admin listener is on 127.0.0.214; the test's client connects from 127.0.0.215, a
 * loopback peer too, so the negative cases name page clients that leave it out.
 */
class AdminSurfaceWireTest {
    static final InetSocketAddress ADMIN = new InetSocketAddress("127.0.0.214", 9901);
    static final String CLIENT = "127.0.0.215";
    static final List<String> PAGES = List.of("/", "/refusals", "/explain?host=www.example.test&port=80");
    static final List<String> OPEN = List.of("/healthz", "/readyz", "/metrics");

    static String config(String pages) {
        return """
                http: {listen: "127.0.0.214:8080"}
                sni: null
                admin: {listen: "127.0.0.214:9901"%s}
                policy:
                  allow: ["www.example.test"]
                  denyNetworks: []
                mesh: {destinations: []}
                """.formatted(pages);
    }

    @Test
    void aLoopbackPeerReadsEveryPageByDefault() throws Exception {
        try (ProxyUnderTest proxy = new ProxyUnderTest(config(""))) {
            for (String path : concat(PAGES, OPEN)) {
                Answer a = get(path);
                assertThat(a.status()).as(path).isEqualTo(200);
            }
            assertThat(get("/").body()).contains("<html");
            assertThat(get("/refusals").body()).startsWith("[");
        }
    }

    @Test
    void aPeerOutsidePageClientsGetsA403WithNoDataButProbesAndMetricsStillAnswer() throws Exception {
        try (ProxyUnderTest proxy = new ProxyUnderTest(config(", pages: {clients: [\"10.0.0.0/8\", \"127.0.0.216/32\"]}"))) {
            for (String path : PAGES) {
                for (String method : List.of("GET", "HEAD", "POST")) {
                    Answer a = ask(method + " " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                            + "Content-Length: 0\r\n\r\n");
                    assertThat(a.status()).as(method + " " + path).isEqualTo(403);
                    if (!method.equals("HEAD")) {
                        assertThat(a.body()).as(path).isEqualTo("forbidden: this page answers loopback clients and "
                                + "admin.pages.clients only\n");
                    }
                }
            }
            for (String path : OPEN) {
                assertThat(get(path).status()).as(path).isEqualTo(200);
            }
            assertThat(get("/metrics").body()).contains("meshegress_ready 1");

            // A reload that names the client's address opens the pages to it, without rebinding the listener.
            proxy.server().reload(ConfigLoader.parse("test.yaml", config(", pages: {clients: [\"127.0.0.215/32\"]}")));
            assertThat(get("/refusals").status()).isEqualTo(200);
            assertThat(get("/explain?host=www.example.test&port=80").body()).contains("\"allowed\"");
            proxy.server().reload(ConfigLoader.parse("test.yaml", config(", pages: {clients: []}")));
            assertThat(get("/refusals").status()).isEqualTo(403);
        }
    }

    @Test
    void ipv6LoopbackIsLoopbackTooAndAnIpv4RangeDoesNotCoverIt() throws Exception {
        String v6 = """
                http: {listen: "127.0.0.214:8080"}
                sni: null
                admin: {listen: "[::1]:19214"%s}
                policy:
                  allow: ["www.example.test"]
                mesh: {destinations: []}
                """;
        try (ProxyUnderTest proxy = new ProxyUnderTest(v6.formatted(""))) {
            InetSocketAddress admin = adminAddress(proxy);
            assertThat(ask(admin, null, "GET /refusals HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").status())
                    .isEqualTo(200);
        }
        try (ProxyUnderTest proxy = new ProxyUnderTest(v6.formatted(", pages: {clients: [\"127.0.0.0/8\"]}"))) {
            InetSocketAddress admin = adminAddress(proxy);
            assertThat(ask(admin, null, "GET /refusals HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").status())
                    .isEqualTo(403);
            assertThat(ask(admin, null, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").status())
                    .isEqualTo(200);
        }
    }

    static InetSocketAddress adminAddress(ProxyUnderTest proxy) {
        return proxy.server().listeners().stream().filter(l -> l.kind().equals("admin")).findFirst().orElseThrow()
                .address();
    }

    @Test
    void everyAnswerCarriesNosniffAndNoneEchoesThePath() throws Exception {
        try (ProxyUnderTest proxy = new ProxyUnderTest(config(""))) {
            String hostile = "/<script>alert(1)</script>\"'%3Cimg%20src=x%20onerror=alert(2)%3E%0d%0aSet-Cookie:%20a=b";
            List<String> requests = new java.util.ArrayList<>();
            for (String path : concat(PAGES, OPEN)) {
                requests.add("GET " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
            }
            requests.add("GET " + hostile + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
            requests.add("GET /metrics/" + hostile + "?x=<b> HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
            requests.add("DELETE /healthz" + hostile + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
            requests.add("POST / HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            // Not HTTP the codec can read, and a body over the aggregator's bound: Netty's own answers.
            requests.add("GET " + hostile + " HTTP/9.9 extra\r\nHost: admin\r\n\r\n");
            requests.add("POST /metrics HTTP/1.1\r\nHost: admin\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(100));
            requests.add("GET /" + "a".repeat(5000) + "<script> HTTP/1.1\r\nHost: admin\r\n\r\n");
            for (String request : requests) {
                Answer a = ask(request);
                String what = request.substring(0, Math.min(60, request.indexOf('\r')));
                assertThat(a.status()).as(what).isBetween(200, 599);
                assertThat(a.headers()).as(what).contains("\nx-content-type-options: nosniff\n");
                assertThat(a.headers()).as(what).doesNotContain("set-cookie");
                String body = a.body().toLowerCase(Locale.ROOT);
                for (String echo : List.of("<script", "script>", "onerror", "%3c", "set-cookie", "aaaaaaaa")) {
                    assertThat(body).as(what).doesNotContain(echo);
                }
            }
            assertThat(ask(requests.get(OPEN.size() + PAGES.size())).status()).isEqualTo(404);
            assertThat(ask(requests.get(OPEN.size() + PAGES.size())).body()).isEqualTo("not found\n");
        }
    }

    record Answer(int status, String headers, String body) {
    }

    static Answer get(String path) throws IOException {
        return ask("GET " + path + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    }

    /** One request from the client address; reads until the admin listener closes. */
    static Answer ask(String request) throws IOException {
        return ask(ADMIN, CLIENT, request);
    }

    static Answer ask(InetSocketAddress to, String from, String request) throws IOException {
        String reply;
        try (Socket s = new Socket()) {
            if (from != null) {
                s.bind(new InetSocketAddress(from, 0));
            }
            s.connect(to, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.shutdownOutput();
            reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        int end = reply.indexOf("\r\n\r\n");
        assertThat(end).as("a complete answer to " + request.lines().findFirst().orElse("")).isPositive();
        String head = reply.substring(0, end).replace("\r\n", "\n").toLowerCase(Locale.ROOT) + "\n";
        return new Answer(Integer.parseInt(reply.substring(9, 12)), head, reply.substring(end + 4));
    }

    @SafeVarargs
    static List<String> concat(List<String>... lists) {
        return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
    }
}
