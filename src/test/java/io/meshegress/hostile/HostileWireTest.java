package io.meshegress.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.FaultyOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The defects a black-box probe found in the HTTP and admin listeners, each as a class of input over the real
 * wire against an in-process proxy: the admin listener's connection bounds and its place in the loop guard,
 * ambiguous heads and trailers, bytes sent behind a closing answer, and a silent upstream.
 * Proxy on 127.0.0.61 (http 8080, admin 9901); origins on 127.0.0.62 (answers) and 127.0.0.63 (silent).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileWireTest {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.61", 8080);
    static final InetSocketAddress ADMIN = new InetSocketAddress("127.0.0.61", 9901);
    static final InetSocketAddress SLOW_HEADS = new InetSocketAddress("127.0.0.64", 8080);

    FaultyOrigin origin;
    FaultyOrigin silent;
    ProxyUnderTest proxy;
    ProxyUnderTest shortIdle;

    @BeforeAll
    void start() throws Exception {
        origin = new FaultyOrigin("127.0.0.62", 8081, FaultyOrigin.Behaviour.ANSWER);
        silent = new FaultyOrigin("127.0.0.63", 8081, FaultyOrigin.Behaviour.SILENT);
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.61:8080"
                  connectPorts: [443, 8081, 9901]
                sni: null
                admin:
                  listen: "127.0.0.61:9901"
                  idleTimeout: 1s
                  maxConnections: 4
                resolver:
                  hosts: {origin.test: 127.0.0.62, silent.test: 127.0.0.63, admin.test: 127.0.0.61}
                timeouts:
                  response: 700ms
                policy:
                  allow: ["origin.test", "silent.test", "admin.test", "127.0.0.61"]
                  deny: ["denied.test", "127.0.0.63"]
                  denyNetworks: []
                mesh:
                  destinations: []
                """);
        shortIdle = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.64:8080"
                sni: null
                admin: null
                timeouts:
                  idle: 400ms
                  handshake: 10s
                mesh:
                  destinations: []
                """);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, shortIdle, origin, silent}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static String exchange(InetSocketAddress to, String request) throws IOException {
        return Sockets.exchange(to, request);
    }

    // ---- defect 1: admin connections ------------------------------------------------------------

    @Test
    void anAdminConnectionClosesWhenTheClientDoes() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(ADMIN, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            // Before: the socket stayed in CLOSE-WAIT on the proxy and this read never ended.
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(reply).startsWith("HTTP/1.1 200").endsWith("ok\n");
        }
    }

    @Test
    void anIdleAdminConnectionIsClosedAndTheirNumberIsCapped() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket();
                s.connect(ADMIN, 5000);
                s.setSoTimeout(5000);
                held.add(s);
                // An answered request proves the proxy accepted it and counts it (a bare connect only proves
                // the kernel's backlog took it).
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("ok\n");
            }
            // The fifth, over admin.maxConnections, is closed at once: well before admin.idleTimeout (1s).
            try (Socket fifth = new Socket()) {
                fifth.connect(ADMIN, 5000);
                fifth.setSoTimeout(5000);
                long start = System.nanoTime();
                assertThat(readToEnd(fifth.getInputStream())).isEmpty();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(700));
            }
            // Every held one is silent now: admin.idleTimeout (1s) closes it.
            long start = System.nanoTime();
            for (Socket s : held) {
                assertThat(readToEnd(s.getInputStream())).isEmpty();
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
            // Room again.
            assertThat(exchange(ADMIN, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** One response with a Content-Length body, leaving the connection open. */
    private static String readResponse(InputStream in) throws IOException {
        String head = Sockets.readLine(in) + "\n";
        int length = 0;
        for (String line; !(line = Sockets.readLine(in)).equals("\r"); ) {
            head += line + "\n";
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }

    private static String readToEnd(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    // ---- defect 4: the admin listener is the proxy itself -------------------------------------------

    @Test
    void theAdminEndpointsAreNotReachableThroughTheProxy() throws Exception {
        for (String host : List.of("127.0.0.61:9901", "admin.test:9901")) {
            String reply = exchange(HTTP, "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertThat(reply).as(host).startsWith("HTTP/1.1 508").contains("is this proxy itself")
                    .doesNotContain("meshegress_");
        }
        assertThat(exchange(HTTP, "GET http://127.0.0.61:9901/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 508");
        assertThat(exchange(HTTP, "CONNECT 127.0.0.61:9901 HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"))
                .startsWith("HTTP/1.1 508").doesNotContain("meshegress_");
    }

    // ---- defect 3: ambiguous heads and trailers ---------------------------------------------------

    @Test
    void twoHostHeadersAreRefusedAndNothingIsForwarded() throws Exception {
        int before = origin.heads();
        assertThat(exchange(HTTP, "GET /two HTTP/1.1\r\nHost: origin.test:8081\r\nHost: denied.test\r\n\r\n"))
                .startsWith("HTTP/1.1 400").contains("more than one Host header");
        assertThat(exchange(HTTP, "GET /two HTTP/1.1\r\nHost: denied.test\r\nhost: origin.test:8081\r\n\r\n"))
                .startsWith("HTTP/1.1 400");
        assertThat(origin.heads()).isEqualTo(before);
    }

    @Test
    void routingAndFramingFieldsInATrailerAreRefusedAndNeverForwarded() throws Exception {
        for (String field : List.of("Host: denied.test", "Connection: close", "Authorization: Basic eA==",
                "Upgrade: websocket", "Content-Type: text/html")) {
            String reply = exchange(HTTP, "POST /upload HTTP/1.1\r\nHost: silent.test:8081\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" + field + "\r\n\r\n");
            String name = field.substring(0, field.indexOf(':')).toLowerCase();
            assertThat(reply).as(field).startsWith("HTTP/1.1 400").contains(name + " in a chunked trailer");
        }
        assertThat(silent.received()).doesNotContain("denied.test").doesNotContain("\r\n0\r\n");
        // Netty's decoder drops the framing fields from a trailer itself: they never reach the origin either.
        for (String field : List.of("Content-Length: 5", "Transfer-Encoding: chunked", "Trailer: x-checksum")) {
            String reply = exchange(HTTP, "POST /upload HTTP/1.1\r\nHost: origin.test:8081\r\nConnection: close\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" + field + "\r\nX-Sum: 1\r\n\r\n");
            assertThat(reply).as(field).startsWith("HTTP/1.1 200");
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> origin.received().split("X-Sum: 1", -1).length == 4);
        assertThat(origin.received()).doesNotContain("\r\nContent-Length: 5").doesNotContain("Trailer: x-checksum");
    }

    @Test
    void versionsOtherThanHttp10And11AreRefusedWith505() throws Exception {
        int before = origin.heads();
        for (String version : List.of("HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9", "HTTP/9.9")) {
            String reply = exchange(HTTP, "GET / " + version + "\r\nHost: origin.test:8081\r\n\r\n");
            assertThat(reply).as(version).startsWith("HTTP/1.1 505").contains("HTTP/1.0 and HTTP/1.1 only");
        }
        assertThat(origin.heads()).isEqualTo(before);
    }

    @Test
    void controlBytesInTheRequestTargetAreRefused() throws Exception {
        int before = origin.heads();
        // And bytes above 0x7e: read as ISO-8859-1 and written on as UTF-8, they would reach the origin changed.
        for (String target : List.of("/a\u0001b", "/a\u007fb", "http://origin.test:8081/\u0000x", "/\u001b[2J",
                "/caf\u00e9", "/\u00c3\u00a9", "http://origin.test:8081/\u00ff")) {
            String reply = exchange(HTTP, "GET " + target + " HTTP/1.1\r\nHost: origin.test:8081\r\nConnection: close\r\n\r\n");
            assertThat(reply).as(target).startsWith("HTTP/1.1 400");
        }
        assertThat(origin.heads()).isEqualTo(before);
    }

    // ---- found by fuzzing: every spelling of a denied address is that address -------------------------

    @Test
    void aDeniedAddressSpelledAnotherWayIsStillDenied() throws Exception {
        // Before: "127.0.0.063." stayed a name, missed the literal deny pattern, and was connected to as 127.0.0.63.
        for (String host : List.of("127.0.0.63", "127.0.0.63.", "127.0.0.063", "127.0.0.063.", "[::ffff:127.0.0.63]")) {
            String reply = exchange(HTTP, "CONNECT " + host + ":8081 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(reply).as(host).startsWith("HTTP/1.1 403").contains("refused by policy.deny[1] \"127.0.0.63\"");
        }
    }

    // ---- defect 5: nothing behind a closing answer is acted on ----------------------------------------

    @Test
    void bytesBehindAClosingRefusalAreNeverActedOn() throws Exception {
        int before = origin.heads();
        String smuggled = "GET /smuggled HTTP/1.1\r\nHost: origin.test:8081\r\n\r\n";
        List<String> closers = List.of(
                "CONNECT denied.test:443 HTTP/1.1\r\nHost: denied.test:443\r\n\r\n",
                "CONNECT origin.test:22 HTTP/1.1\r\nHost: origin.test:22\r\n\r\n",
                "GET / HTTP/2.0\r\nHost: origin.test:8081\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET /first HTTP/1.1\r\nHost: origin.test:8081\r\nConnection: close\r\n\r\n");
        for (String closer : closers) {
            String reply = exchange(HTTP, closer + smuggled + smuggled);
            assertThat(Pattern.compile("(?m)^HTTP/1\\.1 \\d{3} ").matcher(reply).results().count()).as(closer).isOne();
        }
        Awaitility.await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> !origin.received().contains("/smuggled"));
        assertThat(origin.heads()).isEqualTo(before + 1); // only GET /first, which was allowed
    }

    // ---- defect 7: an upstream that accepts and never answers ----------------------------------------

    @Test
    void aSilentUpstreamGetsTheClientA504NamingIt() throws Exception {
        long start = System.nanoTime();
        String reply = exchange(HTTP, "GET /wait HTTP/1.1\r\nHost: silent.test:8081\r\nConnection: close\r\n\r\n");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(reply).startsWith("HTTP/1.1 504")
                .contains("upstream 127.0.0.63:8081 sent no response within timeouts.response (700ms)");
        AccessEntry e = proxy.awaitEntry(a -> a.status() == 504 && "silent.test".equals(a.host()));
        assertThat(e.reason()).contains("127.0.0.63:8081");
        assertThat(e.resolved()).contains("127.0.0.63");
    }

    @Test
    void aSilentUpstreamAfterAnAnsweredRequestOnTheSameConnectionStillGetsA504() throws Exception {
        // The response deadline moves per request on one timer: it must still fire for the second request.
        String replies = exchange(HTTP, "GET /first HTTP/1.1\r\nHost: origin.test:8081\r\n\r\n"
                + "GET /second HTTP/1.1\r\nHost: silent.test:8081\r\nConnection: close\r\n\r\n");
        assertThat(replies).startsWith("HTTP/1.1 200").contains("HTTP/1.1 504")
                .contains("sent no response within timeouts.response (700ms)");
    }

    // ---- smaller: timeouts.idle shorter than timeouts.handshake ---------------------------------------

    @Test
    void aSlowHeadCutByTheIdleTimeoutStillGetsA408AndALogLine() throws Exception {
        String reply = exchange(SLOW_HEADS, "GET / HTTP/1.1\r\nHost: x");
        assertThat(reply).startsWith("HTTP/1.1 408").contains("timeouts.idle");
        assertThat(shortIdle.awaitEntry(a -> a.status() == 408).reason()).contains("timeouts.idle");
    }
}
