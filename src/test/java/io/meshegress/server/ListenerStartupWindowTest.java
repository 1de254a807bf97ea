package io.meshegress.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.testing.TlsClients;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Whatever reaches a listener from the moment its socket is bound is served under a complete runtime: clients
 * hammer the listeners while the server starts (and while a reload adds listeners), and every connection is
 * either refused by the kernel (not bound yet) or answered as the policy says (here a refusal: an HTTP 403, a
 * TLS handshake_failure alert); none is closed unanswered, and nothing is logged as an exception. Each client
 * loop is bounded in count.
 */
class ListenerStartupWindowTest {
    static final String HOST = "127.0.26.1";
    static final int CYCLES = 8;
    static final int MAX_ATTEMPTS_PER_CLIENT = 4000;
    static final int SERVED_AFTER_START = 30;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private byte[] clientHello;

    @BeforeEach
    void captureLog() throws Exception {
        log.start();
        root.addAppender(log);
        clientHello = new TlsClients(javax.net.ssl.SSLContext.getDefault()).clientHello("refused.example");
    }

    @AfterEach
    void release() {
        root.detachAppender(log);
    }

    @Test
    void connectionsArrivingWhileTheServerStartsAreServedOrRefusedByTheKernel() throws Exception {
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Hammer hammer = new Hammer(List.of(new Target(HOST, 8080, true), new Target(HOST, 8443, false)));
            hammer.start();
            EgressServer server = EgressServer.start(config(false), AccessLog.metered(new ProxyMetrics(), e -> { }),
                    new ProxyMetrics());
            try {
                hammer.awaitServedAfterStart();
            } finally {
                hammer.stop();
                server.close();
            }
            hammer.assertClean();
        }
        assertNoExceptionLogged();
    }

    @Test
    void listenersAddedByAReloadHaveNoWindowEither() throws Exception {
        EgressServer server = EgressServer.start(config(false), AccessLog.metered(new ProxyMetrics(), e -> { }),
                new ProxyMetrics());
        try {
            Hammer hammer = new Hammer(List.of(new Target(HOST, 9443, false), new Target(HOST, 10443, false)));
            hammer.start();
            try {
                server.reload(config(true));
                hammer.awaitServedAfterStart();
            } finally {
                hammer.stop();
            }
            hammer.assertClean();
        } finally {
            server.close();
        }
        assertNoExceptionLogged();
    }

    @Test
    void anAddressAnotherProcessListensOnWithReusePortIsStillFoundInUse() throws Exception {
        // The bind probe does not listen (so it takes no connection); it must still find a second mesh-egress,
        // whose sockets carry SO_REUSEPORT and would otherwise silently share the traffic.
        try (java.nio.channels.ServerSocketChannel other = java.nio.channels.ServerSocketChannel.open()) {
            other.setOption(java.net.StandardSocketOptions.SO_REUSEPORT, true);
            other.bind(new InetSocketAddress(HOST, 8443));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> EgressServer.start(config(false),
                            AccessLog.metered(new ProxyMetrics(), e -> { }), new ProxyMetrics()))
                    .isInstanceOf(ListenerBindException.class).hasMessage(HOST + ":8443 is already in use");
        }
    }

    private void assertNoExceptionLogged() {
        assertThat(log.list).as("log lines with an exception or at error level")
                .noneMatch(e -> e.getThrowableProxy() != null || e.getLevel().isGreaterOrEqual(Level.ERROR)
                        || e.getFormattedMessage().contains("Failed to initialize a channel"));
    }

    /** Listeners on HOST: the http one and several SNI ones (so binding takes a while); with more, more still. */
    private static EgressConfig config(boolean more) throws Exception {
        StringBuilder sni = new StringBuilder();
        for (int port : more ? new int[] {8443, 8444, 8445, 9443, 10443, 10444} : new int[] {8443, 8444, 8445}) {
            sni.append("  - listen: \"").append(HOST).append(':').append(port).append("\"\n");
        }
        return ConfigLoader.parse("startup.yaml", """
                http:
                  listen: "%s:8080"
                sni:
                %sadmin: null
                resolver:
                  hosts: {allowed.example: 127.0.26.2}
                policy:
                  allow: [allowed.example]
                mesh:
                  destinations: []
                """.formatted(HOST, sni));
    }

    record Target(String host, int port, boolean http) {
    }

    /** One client thread per target: connect, ask for a refused destination, read the answer; bounded. */
    private final class Hammer {
        private final List<Target> targets;
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger answered = new AtomicInteger();
        private final AtomicInteger refusedByKernel = new AtomicInteger();
        private final ConcurrentLinkedQueue<String> unclean = new ConcurrentLinkedQueue<>();

        Hammer(List<Target> targets) {
            this.targets = targets;
        }

        void start() {
            for (Target t : targets) {
                Thread th = new Thread(() -> run(t), "hammer-" + t.port());
                th.setDaemon(true);
                threads.add(th);
                th.start();
            }
        }

        private void run(Target t) {
            for (int i = 0; i < MAX_ATTEMPTS_PER_CLIENT && running.get(); i++) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(t.host(), t.port()), 2000);
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(t.http()
                            ? "GET http://refused.example/ HTTP/1.1\r\nHost: refused.example\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII) : clientHello);
                    String answer = firstBytes(s.getInputStream(), t.http());
                    boolean clean = t.http() ? answer.startsWith("HTTP/1.1 403") : answer.equals("alert");
                    if (clean) {
                        answered.incrementAndGet();
                    } else {
                        unclean.add(t.port() + ": " + answer);
                    }
                } catch (ConnectException e) {
                    refusedByKernel.incrementAndGet();
                } catch (IOException e) {
                    unclean.add(t.port() + ": " + e);
                }
            }
        }

        /** An HTTP status line, or "alert" for a TLS alert record (content type 21), or what came instead. */
        private static String firstBytes(InputStream in, boolean http) throws IOException {
            if (http) {
                byte[] line = in.readNBytes(12);
                return line.length == 0 ? "closed without an answer" : new String(line, StandardCharsets.US_ASCII);
            }
            int type = in.read();
            return type == 21 ? "alert" : type < 0 ? "closed without an answer" : "record type " + type;
        }

        void awaitServedAfterStart() {
            int base = answered.get();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> answered.get() - base >= SERVED_AFTER_START || threads.stream().noneMatch(Thread::isAlive));
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }

        void assertClean() {
            assertThat(unclean).as("connections closed without an answer (%d answered, %d refused by the kernel)",
                    answered.get(), refusedByKernel.get()).isEmpty();
            assertThat(answered.get()).isGreaterThan(0);
        }
    }
}
