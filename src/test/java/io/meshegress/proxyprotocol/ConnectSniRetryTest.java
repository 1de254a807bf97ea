package io.meshegress.proxyprotocol;

import static io.meshegress.testing.HelloForms.concat;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HelloRetryClient;
import io.meshegress.testing.NameRecordingTlsOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestPki;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * http.connectSniCheck after a HelloRetryRequest (RFC 8446 §4.1.4), on the wire: the client CONNECTs to the
 * allowed a.qq.test, its first ClientHello (made by {@link HelloRetryClient}) names a.qq.test and offers no key
 * share, and the real server (the JDK's engine behind Netty's SslHandler, {@link NameRecordingTlsOrigin}) asks
 * for another ClientHello. That server takes the server_name of the second one (it records each name it
 * matches), as OpenSSL's s_server and Python's ssl module do too: so a second ClientHello for b.qq.test must end
 * the tunnel before it reaches the server, and one for a.qq.test must go on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectSniRetryTest {
    static final String CONFIG = """
            http:
              listen: "127.0.0.150:8080"
              connectPorts: [10443]
              connectSniCheck: true
              echPolicy: refuse
            sni: null
            admin: null
            resolver:
              hosts: {a.qq.test: 127.0.0.151, b.qq.test: 127.0.0.151}
            timeouts:
              handshake: 1s
            policy:
              allow: ["a.qq.test"]
              denyNetworks: []
            mesh:
              destinations: []
            """;
    static final int ACCESS_DENIED = 49;
    static final int HANDSHAKE_FAILURE = 40;

    NameRecordingTlsOrigin origin;
    ProxyUnderTest proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        origin = new NameRecordingTlsOrigin("127.0.0.151", 10443, TestPki.create(dir));
        proxy = new ProxyUnderTest(CONFIG);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, origin}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @BeforeEach
    void clear() {
        origin.clear();
    }

    /** A tunnel to a.qq.test: the client's socket, after the CONNECT's 200. */
    private Socket tunnel() throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.150", 8080), 5000);
        s.setSoTimeout(15_000); // a loaded machine may take seconds to connect upstream and answer
        assertThat(HelloRetryClient.connect(s.getOutputStream(), s.getInputStream(), "a.qq.test:10443"))
                .startsWith("HTTP/1.1 200");
        return s;
    }

    /** Sends the first ClientHello, reads the server's HelloRetryRequest, returns it. */
    private static HelloRetryClient.Record retried(Socket s, HelloRetryClient client, String firstName) throws Exception {
        s.getOutputStream().write(client.firstHello(firstName));
        s.getOutputStream().flush();
        HelloRetryClient.Record hrr = HelloRetryClient.readSkippingChangeCipherSpec(s.getInputStream());
        assertThat(hrr).isNotNull();
        assertThat(hrr.helloRetryRequest()).as("the server asks for another ClientHello").isTrue();
        return hrr;
    }

    private AccessEntry entry(Socket s, Predicate<AccessEntry> more) {
        int port = s.getLocalPort();
        return proxy.awaitEntry(e -> e.kind().equals("connect") && e.client().endsWith(":" + port) && more.test(e));
    }

    private static void assertEndsWithAlert(InputStream in, int alert) throws Exception {
        HelloRetryClient.Record r = HelloRetryClient.readSkippingChangeCipherSpec(in);
        assertThat(r).as("an alert, not the server's ServerHello").isNotNull();
        assertThat(r.serverHello()).as("the server read the second ClientHello").isFalse();
        assertThat(r.alert()).isEqualTo(alert);
        assertThat(in.read()).isEqualTo(-1);
    }

    @Test
    void aSecondClientHelloNamingARefusedHostEndsTheTunnel() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, "a.qq.test");
            s.getOutputStream().write(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, client.secondHello("b.qq.test", hrr.cookie(), false)));
            assertEndsWithAlert(s.getInputStream(), ACCESS_DENIED);
            AccessEntry e = entry(s, x -> x.decision().equals("refused"));
            assertThat(e.reason()).isEqualTo("sni_mismatch: the tunnel's second ClientHello (after the server's "
                    + "HelloRetryRequest) names b.qq.test, the CONNECT named a.qq.test (http.connectSniCheck)");
            assertThat(e.status()).isEqualTo(403);
        }
        assertThat(origin.names()).containsExactly("a.qq.test");
    }

    @Test
    void aSecondClientHelloNamingTheSameHostGoesOn() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, "a.qq.test");
            s.getOutputStream().write(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, client.secondHello("a.qq.test", hrr.cookie(), false)));
            HelloRetryClient.Record next = HelloRetryClient.readSkippingChangeCipherSpec(s.getInputStream());
            assertThat(next).isNotNull();
            assertThat(next.serverHello()).isTrue();
            assertThat(next.helloRetryRequest()).isFalse();
        }
        assertThat(origin.names()).containsExactly("a.qq.test", "a.qq.test");
    }

    @Test
    void aNameAddedInTheSecondClientHelloIsJudged() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, null);
            s.getOutputStream().write(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, client.secondHello("b.qq.test", hrr.cookie(), false)));
            assertEndsWithAlert(s.getInputStream(), ACCESS_DENIED);
            assertThat(entry(s, x -> x.decision().equals("refused")).reason())
                    .startsWith("sni_mismatch: the tunnel's second ClientHello");
        }
        assertThat(origin.names()).isEmpty();
    }

    @Test
    void encryptedClientHelloInTheSecondClientHelloIsRefused() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, "a.qq.test");
            s.getOutputStream().write(client.secondHello("a.qq.test", hrr.cookie(), true));
            assertEndsWithAlert(s.getInputStream(), ACCESS_DENIED);
            assertThat(entry(s, x -> x.decision().equals("refused")).reason()).isEqualTo("encrypted_client_hello "
                    + "refused by http.echPolicy (in the tunnel's second ClientHello (after the server's "
                    + "HelloRetryRequest); the tunnel's real server name would be hidden)");
        }
        assertThat(origin.names()).containsExactly("a.qq.test");
    }

    @Test
    void aSecondClientHelloSentBeforeTheRetryRequestIsJudgedWhenItComes() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            // Both hellos at once, in records of their own: the second waits for the server's answer.
            s.getOutputStream().write(concat(client.firstHello("a.qq.test"), HelloRetryClient.CHANGE_CIPHER_SPEC,
                    client.secondHello("b.qq.test", null, false)));
            // Judged as the server's HelloRetryRequest passes: the client gets the alert in its place.
            assertEndsWithAlert(s.getInputStream(), ACCESS_DENIED);
            assertThat(entry(s, x -> x.decision().equals("refused")).reason())
                    .startsWith("sni_mismatch: the tunnel's second ClientHello");
        }
        assertThat(origin.names()).containsExactly("a.qq.test");
    }

    @Test
    void earlyDataBeforeTheSecondClientHelloIsSkippedAndTheHelloJudged() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, "a.qq.test");
            // RFC 8446 §4.2.10: a server that sent a HelloRetryRequest skips application_data records.
            s.getOutputStream().write(concat(HelloRetryClient.record(23, new byte[40]), HelloRetryClient.CHANGE_CIPHER_SPEC,
                    client.secondHello("b.qq.test", hrr.cookie(), false)));
            assertEndsWithAlert(s.getInputStream(), ACCESS_DENIED);
        }
        assertThat(origin.names()).containsExactly("a.qq.test");
    }

    @Test
    void noSecondClientHelloWithinTheHandshakeTimeoutEndsTheTunnel() throws Exception {
        try (Socket s = tunnel()) {
            HelloRetryClient client = new HelloRetryClient();
            HelloRetryClient.Record hrr = retried(s, client, "a.qq.test");
            byte[] second = client.secondHello("b.qq.test", hrr.cookie(), false);
            OutputStream out = s.getOutputStream();
            out.write(second, 0, 20); // a part, then silence
            out.flush();
            assertEndsWithAlert(s.getInputStream(), HANDSHAKE_FAILURE);
            AccessEntry e = entry(s, x -> x.decision().equals("refused"));
            assertThat(e.reason()).isEqualTo("sni_unreadable: no complete second ClientHello after the server's "
                    + "HelloRetryRequest within timeouts.handshake (1000ms)");
            assertThat(e.status()).isEqualTo(408);
        }
        assertThat(origin.names()).containsExactly("a.qq.test");
    }
}
