package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.WebSocketOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Bytes a client sends right behind a request that may turn its connection into a tunnel (an {@code Upgrade}
 * request, a {@code CONNECT}), before the answer came back. RFC 9110 section 7.8: after a 101 the connection
 * speaks the new protocol from the byte after the request; a declined upgrade leaves HTTP, so those bytes are
 * the next request. RFC 9110 section 9.3.6: after a 2xx to CONNECT the connection is a tunnel from the byte
 * after the request. The origin is {@link WebSocketOrigin} (RFC 6455 on blocking sockets), the client raw
 * sockets writing everything in one go.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelHandoverTest {
    static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    TestDnsServer dns;
    WebSocketOrigin origin;
    ProxyUnderTest proxy;
    InetSocketAddress proxyAddress;
    String authority;

    @BeforeAll
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.24.1").answer("*.ws.test", "127.0.24.3");
        origin = new WebSocketOrigin("127.0.24.3");
        authority = "echo.ws.test:" + origin.port();
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.24.2:8080"
                  connectPorts: [%d]
                sni: null
                admin: null
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["*.ws.test"]
                  denyNetworks: ["10.0.0.0/8"]
                mesh:
                  destinations: []
                """.formatted(origin.port(), dns.configAddress()));
        proxyAddress = proxy.server().listeners().get(0).address();
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, origin, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void framesPipelinedBehindAnUpgradeRequestReachTheOriginInOrderAfterThe101() throws Exception {
        byte[] first = WebSocketFrames.maskedText("first, before the 101");
        byte[] second = WebSocketFrames.maskedText("second");
        try (Socket s = connect()) {
            write(s, ascii(upgrade("/ws")), first, second);
            InputStream in = s.getInputStream();
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101")
                    .contains(WebSocketOrigin.accept(KEY));
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: first, before the 101");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: second");
            byte[] third = WebSocketFrames.maskedText("third, after it");
            write(s, third);
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: third, after it");
            write(s, closeFrame());
            assertThat(in.read()).isEqualTo(0x88);
            // Exactly these bytes, in this order, arrived at the origin on one connection.
            byte[] expected = concat(first, second, third, closeFrame());
            Awaitility.await().until(() -> origin.bytesAfterHandshake().stream()
                    .anyMatch(b -> java.util.Arrays.equals(b, expected)));
        }
    }

    @Test
    void aFrameTheOriginSendsInTheSameWriteAsThe101ReachesTheClient() throws Exception {
        try (Socket s = connect()) {
            write(s, ascii(upgrade("/ws-greeting")), WebSocketFrames.maskedText("and mine"));
            InputStream in = s.getInputStream();
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("greeting");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: and mine");
        }
    }

    @Test
    void aFrameSplitAcrossTheRequestsWriteAndALaterOneIsWhole() throws Exception {
        byte[] frame = WebSocketFrames.maskedText("split frame");
        try (Socket s = connect()) {
            write(s, ascii(upgrade("/ws")), java.util.Arrays.copyOf(frame, 3));
            InputStream in = s.getInputStream();
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101");
            write(s, java.util.Arrays.copyOfRange(frame, 3, frame.length));
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: split frame");
        }
    }

    @Test
    void aClientThatHalfClosesBehindItsFramesStillHasThemDelivered() throws Exception {
        try (Socket s = connect()) {
            write(s, ascii(upgrade("/ws")), WebSocketFrames.maskedText("then half-close"));
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: then half-close");
        }
    }

    @Test
    void whenTheOriginDeclinesTheUpgradeThePipelinedBytesAreTheNextRequest() throws Exception {
        try (Socket s = connect()) {
            write(s, ascii(upgrade("/declined") + "GET /next HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
            InputStream in = s.getInputStream();
            Response declined = Response.read(in);
            assertThat(declined.status()).isEqualTo(200);
            assertThat(declined.body()).isEqualTo("path=/declined\n");
            assertThat(Response.read(in).body()).isEqualTo("path=/next\n");
        }
    }

    @Test
    void whenTheProxyRefusesTheUpgradeThePipelinedBytesAreTheNextRequest() throws Exception {
        try (Socket s = connect()) {
            write(s, ascii("GET /ws HTTP/1.1\r\nHost: elsewhere.test:80\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
                    + "GET /after-refusal HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
            InputStream in = s.getInputStream();
            assertThat(Response.read(in).status()).isEqualTo(403);
            assertThat(Response.read(in).body()).isEqualTo("path=/after-refusal\n");
        }
    }

    @Test
    void bytesBehindAConnectHeadGoFirstThroughTheTunnel() throws Exception {
        byte[] frame = WebSocketFrames.maskedText("through CONNECT");
        try (Socket s = connect()) {
            write(s, ascii("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n" + upgrade("/ws")),
                    frame);
            InputStream in = s.getInputStream();
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 200 Connection established");
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: through CONNECT");
        }
    }

    @Test
    void aConnectPipelinedBehindAnotherRequestKeepsTheBytesBehindIt() throws Exception {
        byte[] frame = WebSocketFrames.maskedText("behind a pipelined CONNECT");
        try (Socket s = connect()) {
            write(s, ascii("GET /before HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"
                    + "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n" + upgrade("/ws")), frame);
            InputStream in = s.getInputStream();
            assertThat(Response.read(in).body()).isEqualTo("path=/before\n");
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 200 Connection established");
            assertThat(HttpProxyTest.readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(WebSocketFrames.readText(in)).isEqualTo("echo: behind a pipelined CONNECT");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private String upgrade(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(proxyAddress, 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Everything in one write, so it leaves in one segment (loopback, no Nagle delay before the first). */
    private static void write(Socket s, byte[]... parts) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(concat(parts));
        out.flush();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** A masked close frame with no payload (RFC 6455 section 5.5.1). */
    private static byte[] closeFrame() {
        return new byte[] {(byte) 0x88, (byte) 0x80, 1, 2, 3, 4};
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }
}
