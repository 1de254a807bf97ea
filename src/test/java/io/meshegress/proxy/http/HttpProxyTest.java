package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HTTP listener over the real wire: a plain-HTTP origin on 127.0.0.3:8081, a TLS origin on
 * 127.0.0.3:10443, the test's DNS server, and the proxy on 127.0.0.2:8080 with connectPorts [10443, 8081]
 * (8081 so that the JDK's WebSocket client, which always tunnels, reaches the plain origin).
 * Clients: curl in its three modes, the JDK HttpClient, python3 urllib and raw sockets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpProxyTest {
    static final String PROXY = "http://127.0.0.2:8080";
    static final InetSocketAddress PROXY_ADDRESS = new InetSocketAddress("127.0.0.2", 8080);
    static final long MIB = 1024 * 1024;

    Path dir;
    TestPki pki;
    TestDnsServer dns;
    HttpOrigin http;
    TlsOrigin tls;
    ServerSocket neverAccepts;
    List<Socket> backlogFillers = new ArrayList<>();
    ProxyUnderTest proxy;
    ProxyUnderTest xffProxy;
    Path upload;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        pki = TestPki.create(dir);
        dns = TestDnsServer.start("127.0.0.1")
                .answer("*.qq.test", "127.0.0.3")
                .answer("closed.qq.test", "127.0.0.6")
                .answer("slow.qq.test", "127.0.0.7")
                .answer("self.qq.test", "127.0.0.2");
        http = new HttpOrigin("127.0.0.3", 8081);
        tls = new TlsOrigin("127.0.0.3", 10443, pki);
        // An origin whose accept queue is full: further SYNs go unanswered, so a connect can only time out.
        neverAccepts = new ServerSocket(8081, 1, java.net.InetAddress.getByName("127.0.0.7"));
        for (int i = 0; i < 3; i++) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress("127.0.0.7", 8081), 300);
            } catch (IOException e) {
                // the queue is full already
            }
            backlogFillers.add(s);
        }
        String config = """
                http:
                  listen: "%s:8080"
                  connectPorts: [10443, 8081]
                  xForwardedFor: %s
                sni: null
                resolver:
                  servers: ["%s"]
                timeouts:
                  connect: 2s
                  handshake: 1s
                policy:
                  allow: ["*.qq.test", "*.nx.test", "127.0.0.2"]    # the literal: the loop guard by IP
                  deny: ["*.deny.qq.test"]
                  denyNetworks: ["10.0.0.0/8"]
                admin: null
                mesh:
                  destinations: []
                """;
        proxy = new ProxyUnderTest(config.formatted("127.0.0.2", "false", dns.configAddress()));
        xffProxy = new ProxyUnderTest(config.formatted("127.0.0.4", "true", dns.configAddress()));
        upload = dir.resolve("upload.bin");
        writeDeterministic(upload, 21, 64 * MIB);
    }

    @AfterAll
    void stop() throws Exception {
        for (Socket s : backlogFillers) {
            s.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {proxy, xffProxy, http, tls, neverAccepts, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    // ---- the three modes, with curl -------------------------------------------------------

    @Test
    void curlAbsoluteFormThroughTheProxy() throws Exception {
        Command c = curl("-x", PROXY, "http://www.qq.test:8081/hello?x=1");
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:8081 host=www.qq.test:8081 path=/hello?x=1\n");
        AccessEntry e = proxy.awaitEntry(a -> "www.qq.test".equals(a.host()) && a.kind().equals("http"));
        assertThat(e.port()).isEqualTo(8081);
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.resolved()).isEqualTo("127.0.0.3");
        assertThat(e.listener()).isEqualTo("http 127.0.0.2:8080");
    }

    @Test
    void curlConnectTunnelToHttps() throws Exception {
        Command c = curl("-x", PROXY, "--cacert", pki.caPem().toString(), "https://tunnel.qq.test:10443/hello");
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:10443 sni=tunnel.qq.test\n");
        AccessEntry e = proxy.awaitEntry(a -> "tunnel.qq.test".equals(a.host()));
        assertThat(e.kind()).isEqualTo("connect");
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.bytesUp()).isPositive();
        assertThat(e.bytesDown()).isPositive();
    }

    @Test
    void curlOriginFormRoutedByHostKeepsThePortInHost() throws Exception {
        Command c = curl("-H", "Host: www.qq.test:8081", PROXY + "/hello");
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:8081 host=www.qq.test:8081 path=/hello\n");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"absolute", "connect", "origin"})
    void sixtyFourMebibytesDownAndUpThroughEachMode(String mode) throws Exception {
        Path down = dir.resolve("down-" + mode);
        List<String> target = switch (mode) {
            case "absolute" -> List.of("-x", PROXY, "http://bulk.qq.test:8081");
            case "connect" -> List.of("-x", PROXY, "--cacert", pki.caPem().toString(), "https://bulk.qq.test:10443");
            default -> List.of("-H", "Host: bulk.qq.test:8081", PROXY);
        };
        List<String> get = new ArrayList<>(target.subList(0, target.size() - 1));
        get.addAll(List.of("-o", down.toString(), target.get(target.size() - 1) + "/bytes?n=" + 64 * MIB + "&seed=4"));
        curl(get.toArray(String[]::new));
        assertThat(DeterministicBytes.sha256(down)).isEqualTo(DeterministicBytes.sha256(4, 64 * MIB));
        Files.delete(down);
        List<String> post = new ArrayList<>(target.subList(0, target.size() - 1));
        post.addAll(List.of("-X", "POST", "-T", upload.toString(), "-H", "Content-Type: application/octet-stream",
                target.get(target.size() - 1) + "/sha256"));
        assertThat(curl(post.toArray(String[]::new)).out()).isEqualTo(DeterministicBytes.sha256(21, 64 * MIB) + " " + 64 * MIB + "\n");
    }

    @Test
    void chunkedUploadWithExpectContinue() throws Exception {
        Command c = curl("-v", "-x", PROXY, "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue",
                "-X", "POST", "-T", upload.toString(), "http://chunky.qq.test:8081/sha256");
        assertThat(c.out()).isEqualTo(DeterministicBytes.sha256(21, 64 * MIB) + " " + 64 * MIB + "\n");
        assertThat(c.err()).contains("HTTP/1.1 100 Continue");
    }

    // ---- other clients --------------------------------------------------------------------

    @Test
    void jdkHttpClientWithAProxySelectorReusesOneUpstreamConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(PROXY_ADDRESS))
                .sslContext(pki.clientContext()).connectTimeout(Duration.ofSeconds(5)).build();
        int before = http.connections();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://reuse.qq.test:8081/hello?i=" + i))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("origin=127.0.0.3:8081 host=reuse.qq.test:8081 path=/hello?i=" + i + "\n");
            assertThat(r.headers().firstValue("via")).hasValue("1.1 mesh-egress");
        }
        // 20 requests, kept alive on both sides: the origin saw far fewer connections than requests.
        assertThat(http.connections() - before).isLessThanOrEqualTo(2);
        HttpResponse<String> s = client.send(HttpRequest.newBuilder(URI.create("https://jdk.qq.test:10443/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(s.body()).isEqualTo("origin=127.0.0.3:10443 sni=jdk.qq.test\n");
    }

    @Test
    void pythonUrllibWithProxyHandler() throws Exception {
        String script = """
                import ssl, sys, urllib.request
                proxy = urllib.request.ProxyHandler({'http': '%s', 'https': '%s'})
                ctx = ssl.create_default_context(cafile=sys.argv[1])
                opener = urllib.request.build_opener(proxy, urllib.request.HTTPSHandler(context=ctx))
                print(opener.open('http://py.qq.test:8081/hello', timeout=20).read().decode().strip())
                print(opener.open('https://py.qq.test:10443/hello', timeout=20).read().decode().strip())
                """.formatted(PROXY, PROXY);
        Command c = Command.run(List.of("python3", "-c", script, pki.caPem().toString()));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:8081 host=py.qq.test:8081 path=/hello\n"
                + "origin=127.0.0.3:10443 sni=py.qq.test\n");
    }

    @Test
    void everyRequestOnAKeptAliveConnectionIsRoutedByItsOwnHost() throws Exception {
        try (Socket s = connect()) {
            for (String host : List.of("a.qq.test:8081", "b.qq.test:8081", "a.qq.test:8081", "c.qq.test:8081")) {
                send(s, "GET /hello HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
                Response r = Response.read(s.getInputStream());
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("origin=127.0.0.3:8081 host=" + host + " path=/hello\n");
            }
        }
    }

    @Test
    void aResponseHeadArrivingApartFromItsBodyStillCompletes() throws Exception {
        try (Socket s = connect()) {
            for (int i = 0; i < 3; i++) {
                send(s, "GET /split HTTP/1.1\r\nHost: split.qq.test:8081\r\n\r\n");
                Response r = Response.read(s.getInputStream());
                assertThat(r.body()).isEqualTo("split\n");
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /hello?n=1 HTTP/1.1\r\nHost: p.qq.test:8081\r\n\r\n"
                    + "GET /hello?n=2 HTTP/1.1\r\nHost: q.qq.test:8081\r\n\r\n"
                    + "GET /hello?n=3 HTTP/1.1\r\nHost: p.qq.test:8081\r\nConnection: close\r\n\r\n");
            InputStream in = s.getInputStream();
            assertThat(Response.read(in).body()).isEqualTo("origin=127.0.0.3:8081 host=p.qq.test:8081 path=/hello?n=1\n");
            assertThat(Response.read(in).body()).isEqualTo("origin=127.0.0.3:8081 host=q.qq.test:8081 path=/hello?n=2\n");
            Response third = Response.read(in);
            assertThat(third.body()).isEqualTo("origin=127.0.0.3:8081 host=p.qq.test:8081 path=/hello?n=3\n");
            assertThat(third.head()).containsIgnoringCase("connection: close");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void webSocketUpgradeIsRelayedAfterThe101() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /ws HTTP/1.1\r\nHost: ws.qq.test:8081\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            InputStream in = s.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("upgrade: websocket")
                    .contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            for (String text : List.of("hello", "through the proxy")) {
                s.getOutputStream().write(WebSocketFrames.maskedText(text));
                assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: " + text);
            }
        }
        proxy.awaitEntry(e -> "ws.qq.test".equals(e.host()) && e.status() == 101 && e.bytesDown() > 0);
    }

    @Test
    void jdkWebSocketThroughTheProxy() throws Exception {
        HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(PROXY_ADDRESS)).build();
        CompletableFuture<String> received = new CompletableFuture<>();
        WebSocket ws = client.newWebSocketBuilder().buildAsync(URI.create("ws://jws.qq.test:8081/ws"),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        received.complete(data.toString());
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("jdk", true);
        assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo("echo: jdk");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
    }

    // ---- header hygiene ------------------------------------------------------------------

    @Test
    void hopByHopHeadersStayHereAndHostIsPreservedExactly() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /headers HTTP/1.1\r\nHost: WWW.QQ.test:8081\r\nConnection: X-Secret, keep-alive\r\n"
                    + "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                    + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\n");
            Response r = Response.read(s.getInputStream());
            assertThat(r.body()).contains("host: WWW.QQ.test:8081\n", "x-kept: yes\n", "via: 1.1 mesh-egress\n")
                    .doesNotContain("x-secret", "keep-alive", "proxy-authorization", "proxy-connection", "te:",
                            "upgrade", "x-forwarded-for");
            send(s, "GET /hop HTTP/1.1\r\nHost: www.qq.test:8081\r\n\r\n");
            Response hop = Response.read(s.getInputStream());
            assertThat(hop.head()).containsIgnoringCase("x-resp-kept: 1").containsIgnoringCase("via: 1.1 mesh-egress")
                    .doesNotContainIgnoringCase("x-resp-secret").doesNotContainIgnoringCase("keep-alive");
        }
    }

    @Test
    void xForwardedForOnlyWhenSwitchedOn() throws Exception {
        Command c = curl("-x", "http://127.0.0.4:8080", "http://xff.qq.test:8081/headers");
        assertThat(c.out()).contains("x-forwarded-for: 127.0.0.1\n");
    }

    // ---- HTTP/1.0, close-delimited bodies, HEAD ----------------------------------------

    @Test
    void http10ClientGetsItsAnswerAndAClose() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET http://old.qq.test:8081/hello HTTP/1.0\r\n\r\n");
            Response r = Response.read(s.getInputStream());
            assertThat(r.body()).isEqualTo("origin=127.0.0.3:8081 host=old.qq.test:8081 path=/hello\n");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void closeDelimitedBodyIsChunkedToAKeepAliveClient() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /bytes?n=100000&seed=3&close=1 HTTP/1.1\r\nHost: cd.qq.test:8081\r\n\r\n");
            InputStream in = s.getInputStream();
            Response r = Response.read(in);
            assertThat(r.head()).containsIgnoringCase("transfer-encoding: chunked");
            assertThat(HexFormat.of().formatHex(DeterministicBytes.sha256().digest(r.bodyBytes())))
                    .isEqualTo(DeterministicBytes.sha256(3, 100000));
            send(s, "HEAD /hello HTTP/1.1\r\nHost: cd.qq.test:8081\r\n\r\n");
            Response head = Response.readHeadOnly(in);
            assertThat(head.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: "
                    + "origin=127.0.0.3:8081 host=cd.qq.test:8081 path=/hello\n".length());
            send(s, "GET /hello HTTP/1.1\r\nHost: cd.qq.test:8081\r\n\r\n");
            assertThat(Response.read(in).body()).isEqualTo("origin=127.0.0.3:8081 host=cd.qq.test:8081 path=/hello\n");
        }
    }

    // ---- errors -----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            both CL and TE       | POST /sha256 HTTP/1.1\\r\\nHost: e.qq.test:8081\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n0\\r\\n\\r\\n | 400 | malformed request | true
            differing CLs        | POST /sha256 HTTP/1.1\\r\\nHost: e.qq.test:8081\\r\\nContent-Length: 3\\r\\nContent-Length: 4\\r\\n\\r\\nabcd | 400 | Multiple Content-Length | true
            bad chunk size       | POST /sha256 HTTP/1.1\\r\\nHost: e.qq.test:8081\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\nabc\\r\\n0\\r\\n\\r\\n | 400 | malformed request body | true
            obs-fold             | GET /hello HTTP/1.1\\r\\nHost: e.qq.test:8081\\r\\nX-A: b\\r\\n c\\r\\n\\r\\n | 400 | obsolete line folding | true
            bare CR              | GET /hello HTTP/1.1\\r\\nHost: e.qq.test:8081\\rX-A: b\\r\\n\\r\\n | 400 | malformed request | true
            missing Host         | GET /hello HTTP/1.1\\r\\n\\r\\n | 400 | missing Host header | false
            https absolute-form  | GET https://e.qq.test/ HTTP/1.1\\r\\nHost: e.qq.test\\r\\n\\r\\n | 400 | go through CONNECT | false
            denied host          | GET /hello HTTP/1.1\\r\\nHost: x.deny.qq.test:8081\\r\\n\\r\\n | 403 | refused by policy.deny[0] "*.deny.qq.test" | false
            CONNECT to port 22   | CONNECT www.qq.test:22 HTTP/1.1\\r\\nHost: www.qq.test:22\\r\\n\\r\\n | 403 | refused by http.connectPorts (port 22 is not in [10443, 8081]) | true
            unresolvable         | GET /hello HTTP/1.1\\r\\nHost: nowhere.nx.test\\r\\n\\r\\n | 502 | nowhere.nx.test could not be resolved | false
            connection refused   | GET /hello HTTP/1.1\\r\\nHost: closed.qq.test:8081\\r\\n\\r\\n | 502 | connect to 127.0.0.6:8081 failed | false
            connect timeout      | GET /hello HTTP/1.1\\r\\nHost: slow.qq.test:8081\\r\\n\\r\\n | 504 | connect to 127.0.0.7:8081 timed out | false
            loop                 | GET /hello HTTP/1.1\\r\\nHost: self.qq.test:8080\\r\\n\\r\\n | 508 | destination 127.0.0.2:8080 is this proxy itself | false
            loop by IP           | GET http://127.0.0.2:8080/ HTTP/1.1\\r\\nHost: 127.0.0.2:8080\\r\\n\\r\\n | 508 | is this proxy itself | false
            """)
    void errorsAreStatusesWithAOneLineReasonAndTheProxyKeepsServing(String name, String request, int status,
                                                                     String reason, boolean closes) throws Exception {
        try (Socket s = connect()) {
            send(s, request.replace("\\r", "\r").replace("\\n", "\n"));
            Response r = Response.read(s.getInputStream());
            assertThat(r.status()).as(r.head() + r.body()).isEqualTo(status);
            assertThat(r.body()).startsWith("mesh-egress: ").contains(reason).endsWith("\n");
            assertThat(r.body().strip().lines()).hasSize(1);
            if (closes) {
                // After a framing error nothing more on this connection can be trusted.
                assertThat(r.head()).containsIgnoringCase("connection: close");
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            } else {
                assertThat(r.head()).doesNotContainIgnoringCase("connection: close");
            }
        }
        assertStillServing();
    }

    @Test
    void headTooLargeIs431() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /hello HTTP/1.1\r\nHost: big.qq.test:8081\r\nX-Big: " + "a".repeat(70_000) + "\r\n\r\n");
            Response r = Response.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(431);
            assertThat(r.body()).startsWith("mesh-egress: request head too large");
        }
        assertStillServing();
    }

    @Test
    void slowRequestHeadIs408() throws Exception {
        long start = System.nanoTime();
        try (Socket s = connect()) {
            send(s, "GET /hello HTTP/1.1\r\nHost: slo");
            Response r = Response.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(408);
            assertThat(r.body()).isEqualTo("mesh-egress: no complete request head within timeouts.handshake\n");
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(900L, 8000L);
        assertStillServing();
    }

    @Test
    void refusedRequestWithoutBodyKeepsTheConnection() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /hello HTTP/1.1\r\nHost: y.deny.qq.test:8081\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).status()).isEqualTo(403);
            send(s, "GET /hello HTTP/1.1\r\nHost: fine.qq.test:8081\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).body()).isEqualTo("origin=127.0.0.3:8081 host=fine.qq.test:8081 path=/hello\n");
        }
        AccessEntry e = proxy.awaitEntry(a -> "y.deny.qq.test".equals(a.host()));
        assertThat(e.decision()).isEqualTo("refused");
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.reason()).isEqualTo("refused by policy.deny[0] \"*.deny.qq.test\"");
    }

    @Test
    void bytesAfterTheConnectHeadAreNotLost() throws Exception {
        TlsClients tlsClients = new TlsClients(pki.clientContext());
        byte[] hello = tlsClients.clientHello("early.qq.test");
        try (Socket s = connect()) {
            // The ClientHello goes in the same write as the CONNECT head, before any 200 came back.
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write("CONNECT early.qq.test:10443 HTTP/1.1\r\nHost: early.qq.test:10443\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            both.write(hello);
            s.getOutputStream().write(both.toByteArray());
            InputStream in = s.getInputStream();
            assertThat(readHead(in)).startsWith("HTTP/1.1 200 Connection established");
            // The origin's ServerHello proves it got the ClientHello intact.
            int type = in.read();
            assertThat(type).isEqualTo(22);
        }
    }

    private void assertStillServing() throws Exception {
        assertThat(curl("-x", PROXY, "http://ok.qq.test:8081/hello").out())
                .isEqualTo("origin=127.0.0.3:8081 host=ok.qq.test:8081 path=/hello\n");
    }

    // ---- helpers -------------------------------------------------------------------------------

    static Command curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "60", "--noproxy", ""));
        cmd.addAll(List.of(args));
        Command c = Command.run(cmd);
        assertThat(c.exitCode()).as(String.join(" ", cmd) + "\n" + c.err()).isZero();
        return c;
    }

    static Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(PROXY_ADDRESS, 5000);
        s.setSoTimeout(15_000);
        return s;
    }

    static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    static String readHead(InputStream in) throws IOException {
        return TlsClients.readHead(in);
    }

    static void writeDeterministic(Path file, long seed, long length) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            DeterministicBytes bytes = new DeterministicBytes(seed, length);
            byte[] block = new byte[DeterministicBytes.BLOCK];
            int n;
            while ((n = bytes.next(block)) > 0) {
                out.write(block, 0, n);
            }
        }
    }
}
