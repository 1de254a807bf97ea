package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TlsClients;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * timeouts.idle and timeouts.handshake on the HTTP listener, over the real wire: the proxy on 127.0.0.31:8080
 * with idle 2s and handshake 500ms, and an origin on 127.0.0.32:8090 that answers every request head with a
 * fixed 2-byte body (or, after a CONNECT, echoes bytes) and reports when the proxy closes its connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TimeoutsTest {
    static final InetSocketAddress PROXY = new InetSocketAddress("127.0.0.31", 8080);
    static final long IDLE_MS = 2000;

    TestDnsServer dns;
    ProxyUnderTest proxy;
    ServerSocket origin;
    /** For each origin connection, by the path of its first request, when the proxy closed it (System.nanoTime()). */
    final Map<String, Long> originClosedAt = new ConcurrentHashMap<>();

    @BeforeAll
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.32");
        origin = new ServerSocket();
        origin.bind(new InetSocketAddress("127.0.0.32", 8090));
        Thread acceptor = new Thread(this::serveOrigin, "timeouts-origin");
        acceptor.setDaemon(true);
        acceptor.start();
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.31:8080"
                  connectPorts: [8090]
                sni: null
                resolver:
                  servers: ["%s"]
                timeouts:
                  idle: %dms
                  handshake: 500ms
                policy:
                  allow: ["*.qq.test"]
                  denyNetworks: []
                admin: null
                mesh:
                  destinations: []
                """.formatted(dns.configAddress(), IDLE_MS));
    }

    @AfterAll
    void stop() throws Exception {
        proxy.close();
        origin.close();
        dns.close();
    }

    private void serveOrigin() {
        while (!origin.isClosed()) {
            try {
                Socket s = origin.accept();
                Thread t = new Thread(() -> originConnection(s), "timeouts-origin-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Answers request heads with "ok"; a connection whose first byte is not a letter of a method echoes. */
    private void originConnection(Socket s) {
        String firstPath = "";
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int first = in.read();
            if (first == 'G') {
                while (first >= 0) {
                    String head = TlsClients.readHead(in);
                    if (firstPath.isEmpty()) {
                        firstPath = head.split(" ")[1];
                    }
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    first = in.read();
                }
            } else if (first >= 0) {
                out.write(first);
                out.flush();
                in.transferTo(out);
            }
        } catch (IOException e) {
            // a reset is a close too
        }
        originClosedAt.put(firstPath, System.nanoTime());
    }

    private static Socket client() throws IOException {
        Socket s = new Socket();
        s.connect(PROXY, 5000);
        s.setSoTimeout(15_000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    /** Waits out {@code period} while checking that the proxy sends nothing on the connection. */
    private static void quietFor(Socket s, Duration period) {
        Awaitility.await().during(period).atMost(period.plusSeconds(2))
                .until(() -> s.getInputStream().available(), n -> n == 0);
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    @Test
    void anIdleKeptAliveClientAndItsPooledUpstreamAreClosedAfterTimeoutsIdle() throws Exception {
        try (Socket s = client()) {
            send(s, "GET /pooled HTTP/1.1\r\nHost: pool.qq.test:8090\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).body()).isEqualTo("ok");
            long answered = System.nanoTime();
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(millisSince(answered)).isBetween(IDLE_MS - 300, IDLE_MS + 3000);
            long upstreamClosed = Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> originClosedAt.get("/pooled"), t -> t != null);
            assertThat(TimeUnit.NANOSECONDS.toMillis(upstreamClosed - answered)).isBetween(IDLE_MS - 300, IDLE_MS + 3000);
        }
    }

    @Test
    void aBusyKeptAliveConnectionIsNotIdle() throws Exception {
        try (Socket s = client()) {
            long start = System.nanoTime();
            // A request every 400 ms for twice the idle timeout, each on the same client connection.
            for (int i = 0; i < 2 * IDLE_MS / 400; i++) {
                send(s, "GET /n" + i + " HTTP/1.1\r\nHost: busy.qq.test:8090\r\n\r\n");
                assertThat(Response.read(s.getInputStream()).body()).isEqualTo("ok");
                // The pause under test: the proxy must stay quiet (no close, nothing unasked) through it.
                quietFor(s, Duration.ofMillis(400));
            }
            assertThat(millisSince(start)).isGreaterThan(IDLE_MS);
            send(s, "GET /last HTTP/1.1\r\nHost: busy.qq.test:8090\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).body()).isEqualTo("ok");
        }
    }

    @Test
    void waitingBetweenRequestsIsNotAHeadTimeoutButASlowNextHeadIs() throws Exception {
        try (Socket s = client()) {
            send(s, "GET /1 HTTP/1.1\r\nHost: head.qq.test:8090\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).body()).isEqualTo("ok");
            // Longer than timeouts.handshake, shorter than timeouts.idle: no 408 may come meanwhile.
            quietFor(s, Duration.ofMillis(1000));
            send(s, "GET /2 HTTP/1.1\r\nHost: head.qq.test:8090\r\n\r\n");
            assertThat(Response.read(s.getInputStream()).body()).isEqualTo("ok");
            long started = System.nanoTime();
            send(s, "GET /3 HTTP/1.1\r\nHost: hea");
            Response r = Response.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(408);
            assertThat(millisSince(started)).isBetween(400L, 3000L);
        }
    }

    @Test
    void aTunnelTrickleKeepsItOpenAndSilenceClosesIt() throws Exception {
        try (Socket s = client()) {
            send(s, "CONNECT echo.qq.test:8090 HTTP/1.1\r\nHost: echo.qq.test:8090\r\n\r\n");
            assertThat(Response.readHeadOnly(s.getInputStream()).status()).isEqualTo(200);
            long start = System.nanoTime();
            int sent = 0;
            long lastEcho = start;
            while (millisSince(start) < 2 * IDLE_MS) {
                send(s, "x");
                assertThat(s.getInputStream().read()).isEqualTo('x');
                lastEcho = System.nanoTime();
                sent++;
                quietFor(s, Duration.ofMillis(400)); // the trickle's pause: nothing may arrive unasked
            }
            assertThat(sent).isGreaterThan(4);
            // Silence since the last byte: the proxy ends the tunnel timeouts.idle after it.
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(millisSince(lastEcho)).isBetween(IDLE_MS - 300, IDLE_MS + 3000);
        }
    }

    @Test
    void aTunnelToASlowReaderIsNotIdleWhileItsBufferDrains() throws Exception {
        try (Socket s = client()) {
            s.setReceiveBufferSize(16 * 1024);
            send(s, "CONNECT echo.qq.test:8090 HTTP/1.1\r\nHost: echo.qq.test:8090\r\n\r\n");
            InputStream in = s.getInputStream();
            assertThat(Response.readHeadOnly(in).status()).isEqualTo(200);
            // 2 MiB up at once, echoed back; read 192 KiB every 400 ms, so it takes ~4 s, two idle timeouts.
            byte[] block = new byte[2 * 1024 * 1024];
            java.util.Arrays.fill(block, (byte) 'y');
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(block);
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // the read side reports it
                }
            });
            writer.start();
            long received = 0;
            long start = System.nanoTime();
            byte[] buf = new byte[192 * 1024];
            while (received < block.length) {
                int n = in.readNBytes(buf, 0, (int) Math.min(buf.length, block.length - received));
                assertThat(n).as("bytes after %d ms", millisSince(start)).isPositive();
                received += n;
                if (received < block.length) {
                    // The slow reader: back after 400 ms, when more of the echo must be waiting for it.
                    Awaitility.await().pollDelay(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5))
                            .until(in::available, waiting -> waiting > 0);
                }
            }
            writer.join(10_000);
            assertThat(received).isEqualTo(block.length);
            assertThat(millisSince(start)).isGreaterThan(IDLE_MS);
        }
    }
}
