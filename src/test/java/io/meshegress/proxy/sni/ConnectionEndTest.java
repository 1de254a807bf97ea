package io.meshegress.proxy.sni;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.RawSinkOrigin;
import io.meshegress.testing.Sockets;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * How connections end. Every connection the proxy accepts is closed by it in the end, however the client
 * left; a socket left open after its peer reset it is reported ready by level-triggered epoll for ever, and
 * the event loop spins on it (bench/run's readiness probe, a connect and a close, once did that to a build).
 * And the normal end of a tunnel costs no exception: a client half-closes, the origin answers and closes, and
 * the proxy's event loops construct no Throwable on the way (JFR's {@code jdk.JavaExceptionThrow}, which
 * records every Throwable constructed, watched on the proxy's own threads). A stack trace per connection is
 * CPU per connection (issue "Performance, round 2"); Netty's shutdownOutput made one on every half-close.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionEndTest {
    static final InetSocketAddress LISTENER = new InetSocketAddress("127.0.0.2", 18443);

    TestDnsServer dns;
    RawSinkOrigin origin;
    ProxyUnderTest proxy;
    TlsClients clients;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        clients = new TlsClients(TestPki.create(dir).clientContext());
        dns = TestDnsServer.start("127.0.0.1").answer("raw.qq.test", "127.0.0.4");
        origin = new RawSinkOrigin("127.0.0.4", 18444, 4096);
        proxy = new ProxyUnderTest("""
                http: null
                sni:
                  - listen: "127.0.0.2:18443"
                    upstreamPort: 18444
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["raw.qq.test"]
                  denyNetworks: []
                admin:
                  listen: "127.0.0.2:19901"
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
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
    void aClientThatConnectsAndLeavesAtOnceIsClosedByTheProxyToo() throws Exception {
        for (int i = 0; i < 5; i++) {
            // A connect and a close, as a readiness probe does: the proxy reads the end of input before any
            // ClientHello, answers with an alert, and the client's kernel resets the connection.
            try (Socket s = new Socket()) {
                s.connect(LISTENER, 5000);
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(proxy.server().openConnections()).isZero());
        proxy.awaitEntry(e -> e.reason().equals("client ended its input before a complete ClientHello"));
        tunnel(); // and it still serves
    }

    @Test
    void everyHostileWayOfLeavingEndsWithTheProxyClosingItsSockets() throws Exception {
        byte[] hello = clients.clientHello("raw.qq.test");
        for (int i = 0; i < 3; i++) {
            // A reset straight after connecting: nothing read, nothing to answer.
            try (Socket s = new Socket()) {
                s.connect(LISTENER, 5000);
                s.setSoLinger(true, 0);
            }
            // Half a ClientHello, then a reset.
            try (Socket s = new Socket()) {
                s.connect(LISTENER, 5000);
                s.getOutputStream().write(Arrays.copyOf(hello, hello.length / 2));
                s.getOutputStream().flush();
                s.setSoLinger(true, 0);
            }
            // A whole tunnel: ClientHello and data, a half-close that the proxy passes on, then a reset before
            // the origin's answer comes back, so that every later write and shutdown towards the client fails.
            try (Socket s = new Socket()) {
                s.connect(LISTENER, 5000);
                s.getOutputStream().write(hello);
                s.getOutputStream().write(new byte[16 * 1024]);
                s.getOutputStream().flush();
                s.shutdownOutput();
                s.setSoLinger(true, 0);
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(proxy.server().openConnections()).isZero());
        tunnel(); // and it still serves
    }

    @Test
    void halfClosedTunnelsEndWithoutAnExceptionOnTheProxysThreads(@TempDir Path dir) throws Exception {
        tunnel(); // the first connection loads classes and fills caches; the second is the steady state
        Path jfr = dir.resolve("close.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("jdk.JavaExceptionThrow").withStackTrace();
            recording.start();
            for (int i = 0; i < 3; i++) {
                tunnel();
            }
            recording.stop();
            recording.dump(jfr);
        }
        List<RecordedEvent> onProxyThreads = RecordingFile.readAllEvents(jfr).stream()
                .filter(e -> e.getThread() != null && e.getThread().getJavaName() != null
                        && e.getThread().getJavaName().startsWith("mesh-egress-io"))
                .filter(e -> !bookkeeping(e))
                .collect(Collectors.toList());
        assertThat(onProxyThreads).as("Throwables constructed on the proxy's event loops: %s",
                onProxyThreads.stream().map(e -> e.getClass("thrownClass").getName()).collect(Collectors.toList()))
                .isEmpty();
    }

    /**
     * Throwables that are not the close path's: the leak detector's access records (the tests run it at
     * paranoid), Netty's close markers that carry no stack trace, and the JVM probing for pre-generated
     * method-handle code the first time a lambda shape is linked.
     */
    private static boolean bookkeeping(RecordedEvent e) {
        String type = e.getClass("thrownClass").getName();
        return type.equals("io.netty.util.ResourceLeakDetector$TraceRecord")
                || type.startsWith("io.netty.channel.Stackless")
                || e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                        .anyMatch(f -> f.getMethod().getType().getName().equals("java.lang.invoke.MethodHandleNatives"));
    }

    /** One tunnel: ClientHello and 64 KiB up, a half-close, the origin's digest and 4 KiB back, both ends closed. */
    private void tunnel() throws Exception {
        String client;
        byte[] hello = clients.clientHello("raw.qq.test");
        MessageDigest sent = DeterministicBytes.sha256();
        try (Socket s = new Socket()) {
            s.connect(LISTENER, 5000);
            client = "127.0.0.1:" + s.getLocalPort();
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(hello);
            sent.update(hello);
            byte[] block = new byte[64 * 1024];
            out.write(block);
            sent.update(block);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            assertThat(Sockets.readLine(in)).isEqualTo(HexFormat.of().formatHex(sent.digest()));
            assertThat(in.readAllBytes()).hasSize(4096);
        }
        AccessEntry entry = proxy.awaitEntry(e -> client.equals(e.client()));
        assertThat(entry.bytesUp()).isEqualTo(hello.length + 64 * 1024);
        assertThat(entry.bytesDown()).isEqualTo(64 + 1 + 4096);
    }
}
