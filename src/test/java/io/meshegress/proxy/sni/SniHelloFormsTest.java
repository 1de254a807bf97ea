package io.meshegress.proxy.sni;

import static io.meshegress.testing.HelloForms.concat;
import static io.meshegress.testing.HelloForms.entry;
import static io.meshegress.testing.HelloForms.extension;
import static io.meshegress.testing.HelloForms.message;
import static io.meshegress.testing.HelloForms.record;
import static io.meshegress.testing.HelloForms.serverNameList;
import static io.meshegress.testing.HelloForms.split;
import static io.meshegress.testing.HelloForms.withExtensionsForServerName;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.ServerOracle;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SNI listener routes by the name a TLS server reads, with the same reader as the CONNECT check: a.qq.test
 * is allowed and b.qq.test is not, both on one front end (127.0.0.151). A ClientHello whose second server_name
 * extension names b.qq.test must not be routed to the front by its first (the JDK's server reads the last);
 * a hello behind an empty record or split over records is routed by its name, as a server reads it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SniHelloFormsTest {
    static final InetSocketAddress LISTENER = new InetSocketAddress("127.0.0.150", 8443);
    static final byte[] HANDSHAKE_FAILURE = {21, 3, 3, 0, 2, 2, 40};
    static final byte[] UNRECOGNIZED_NAME = {21, 3, 3, 0, 2, 2, 112};

    TlsOrigin front;
    ProxyUnderTest proxy;
    TlsClients clients;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        clients = new TlsClients(pki.clientContext());
        front = new TlsOrigin("127.0.0.151", 10443, pki);
        proxy = new ProxyUnderTest("""
                http: null
                sni:
                  - listen: "127.0.0.150:8443"
                    upstreamPort: 10443
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
                """);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, front}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** Sends {@code bytes}; what comes back until the proxy closes, or within 3 s; and the log line. */
    private record Answer(byte[] bytes, AccessEntry entry) {
    }

    private Answer send(byte[] bytes) throws Exception {
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        int port;
        try (Socket s = new Socket()) {
            s.connect(LISTENER, 5000);
            port = s.getLocalPort();
            s.setSoTimeout(3000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    back.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // an origin answering a handshake waits for the client's next flight: what came is the answer
            }
        }
        int p = port;
        return new Answer(back.toByteArray(), proxy.awaitEntry(e -> e.client().endsWith(":" + p)));
    }

    @Test
    void twoServerNameExtensionsAreRefusedNotRoutedByTheFirst() throws Exception {
        byte[] hello = record(withExtensionsForServerName(message(clients.clientHello("a.qq.test")),
                extension(0, serverNameList(entry(0, "a.qq.test"))), extension(0, serverNameList(entry(0, "b.qq.test")))));
        assertThat(ServerOracle.read(hello).hostName()).as("the JDK's server reads the last one").isEqualTo("b.qq.test");
        int before = front.connections();
        Answer a = send(hello);
        assertThat(a.bytes()).containsExactly(HANDSHAKE_FAILURE);
        assertThat(a.entry().reason()).isEqualTo("ClientHello lists extension 0 twice");
        assertThat(front.connections()).isEqualTo(before);
    }

    @Test
    void aHostNameBehindAnotherNameTypeIsTheName() throws Exception {
        byte[] hello = record(withExtensionsForServerName(message(clients.clientHello("a.qq.test")),
                extension(0, serverNameList(entry(1, "a.qq.test"), entry(0, "b.qq.test")))));
        assertThat(ServerOracle.read(hello).hostName()).isEqualTo("b.qq.test");
        Answer a = send(hello);
        assertThat(a.bytes()).containsExactly(UNRECOGNIZED_NAME);
        assertThat(a.entry().host()).isEqualTo("b.qq.test");
        assertThat(a.entry().decision()).isEqualTo("refused");
    }

    @Test
    void aHelloBehindAnEmptyRecordAndSplitIsRoutedByItsName() throws Exception {
        byte[] hello = concat(record(new byte[0]), split(message(clients.clientHello("a.qq.test")), 7, 7, 90));
        assertThat(ServerOracle.read(hello).hostName()).isEqualTo("a.qq.test");
        int before = front.connections();
        Answer a = send(hello);
        // The front's own TLS stack (Netty's SslHandler) may refuse the empty record; that is its business.
        assertThat(front.connections()).isEqualTo(before + 1);
        assertThat(a.entry().host()).isEqualTo("a.qq.test");
        assertThat(a.entry().decision()).isEqualTo("allowed");
    }
}
