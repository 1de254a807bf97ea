package io.meshegress.proxyprotocol;

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
import io.meshegress.testing.Command;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.ServerOracle;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * http.connectSniCheck against every record and server_name form a real TLS server reads a name from, on the
 * wire: CONNECT to the allowed a.qq.test, then a ClientHello for b.qq.test (a real JDK client's, re-shaped by
 * {@link io.meshegress.testing.HelloForms}). Each form must end the tunnel with the proxy's alert before a byte
 * reaches the origin. Where a form's danger is that a real server takes the name from it, the JDK's own server
 * engine ({@link ServerOracle}) says so in the test; forms only Go accepts cite Go's crypto/tls.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectSniCheckFormsTest {
    static final String CONFIG = """
            http:
              listen: "%s:8080"
              connectPorts: [10443]
              connectSniCheck: %s
              echPolicy: refuse
            sni: null
            admin: null
            resolver:
              hosts: {a.qq.test: 127.0.0.141, b.qq.test: 127.0.0.141}
            timeouts:
              handshake: 1s
            policy:
              allow: ["a.qq.test", "b.qq.test"]
              denyNetworks: []
            mesh:
              destinations: []
            """;
    static final byte[] ACCESS_DENIED = {21, 3, 3, 0, 2, 2, 49};
    static final byte[] HANDSHAKE_FAILURE = {21, 3, 3, 0, 2, 2, 40};

    TestPki pki;
    TlsOrigin origin;
    ProxyUnderTest match;
    ProxyUnderTest require;
    byte[] helloB;
    byte[] messageB;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        pki = TestPki.create(dir);
        origin = new TlsOrigin("127.0.0.141", 10443, pki);
        match = new ProxyUnderTest(CONFIG.formatted("127.0.0.140", "true"));
        require = new ProxyUnderTest(CONFIG.formatted("127.0.0.142", "require"));
        helloB = new TlsClients(pki.clientContext()).clientHello("b.qq.test");
        messageB = message(helloB);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {match, require, origin}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** The bytes the client gets back after the CONNECT's 200, and the tunnel's log line. */
    record Answer(byte[] bytes, AccessEntry entry) {
    }

    private Answer tunnel(ProxyUnderTest proxy, String address, byte[] tls) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, 8080), 5000);
            s.setSoTimeout(15_000); // a loaded machine may take seconds to connect upstream and answer
            s.getOutputStream().write("CONNECT a.qq.test:10443 HTTP/1.1\r\nHost: a.qq.test:10443\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertThat(TlsClients.readHead(in)).startsWith("HTTP/1.1 200");
            s.getOutputStream().write(tls);
            s.getOutputStream().flush();
            byte[] back = in.readAllBytes();
            int port = s.getLocalPort();
            return new Answer(back, proxy.awaitEntry(e -> e.kind().equals("connect") && e.client().endsWith(":" + port)
                    && e.decision().equals("refused")));
        }
    }

    private Answer refusedByMatch(byte[] tls) throws Exception {
        return tunnel(match, "127.0.0.140", tls);
    }

    private void assertMismatch(Answer a) {
        assertThat(a.bytes()).containsExactly(ACCESS_DENIED);
        assertThat(a.entry().reason()).isEqualTo("sni_mismatch: the tunnel's ClientHello names b.qq.test, the "
                + "CONNECT named a.qq.test (http.connectSniCheck)");
        assertThat(a.entry().bytesUp()).isZero();
    }

    private void assertUnreadable(Answer a, String reason) {
        assertThat(a.bytes()).containsExactly(HANDSHAKE_FAILURE);
        assertThat(a.entry().reason()).isEqualTo("sni_unreadable: " + reason + " (http.connectSniCheck)");
        assertThat(a.entry().alert()).isEqualTo("handshake_failure");
        assertThat(a.entry().bytesUp()).isZero();
    }

    @Test
    void aHelloSplitOverThreeRecordsIsRead() throws Exception {
        byte[] tls = split(messageB, 3, 60);
        assertThat(ServerOracle.read(tls).hostName()).isEqualTo("b.qq.test");
        assertMismatch(refusedByMatch(tls));
    }

    @Test
    void anEmptyHandshakeRecordBeforeTheHelloIsSkippedAsAServerSkipsIt() throws Exception {
        // RFC 8446 §5.1 forbids sending it, yet the JDK's server (and OpenSSL's record layer) read on past it.
        byte[] tls = concat(record(new byte[0]), helloB);
        assertThat(ServerOracle.read(tls).hostName()).isEqualTo("b.qq.test");
        assertMismatch(refusedByMatch(tls));
    }

    @Test
    void emptyRecordsBetweenFragmentsAreSkipped() throws Exception {
        byte[] tls = split(messageB, 2, 2, 40, 40, 40);
        assertThat(ServerOracle.read(tls).hostName()).isEqualTo("b.qq.test");
        assertMismatch(refusedByMatch(tls));
    }

    @Test
    void theHostNameIsFoundBehindAnEntryOfAnotherNameType() throws Exception {
        // Go's crypto/tls (handshake_messages.go, clientHelloMsg.unmarshal) skips name types it does not know.
        byte[] tls = record(withExtensionsForServerName(messageB,
                extension(0, serverNameList(entry(1, "a.qq.test"), entry(0, "b.qq.test")))));
        assertThat(ServerOracle.read(tls).hostName()).isEqualTo("b.qq.test");
        assertMismatch(refusedByMatch(tls));
    }

    @Test
    void twoHostNamesEndTheTunnel() throws Exception {
        // RFC 6066 §3: no more than one name of a type; Go, OpenSSL and the JDK all refuse such a hello.
        byte[] tls = record(withExtensionsForServerName(messageB,
                extension(0, serverNameList(entry(0, "a.qq.test"), entry(0, "b.qq.test")))));
        assertThat(ServerOracle.read(tls).sawClientHello()).isFalse();
        assertUnreadable(refusedByMatch(tls), "server_name lists more than one host_name");
    }

    @Test
    void aListOfOnlyAnotherNameTypeEndsTheTunnel() throws Exception {
        // OpenSSL refuses any name type but host_name; with no host_name there is no name to compare.
        byte[] tls = record(withExtensionsForServerName(messageB, extension(0, serverNameList(entry(1, "b.qq.test")))));
        assertUnreadable(refusedByMatch(tls), "server_name lists no host_name");
    }

    @Test
    void twoServerNameExtensionsEndTheTunnel() throws Exception {
        // The JDK's server takes the LAST one (b.qq.test), Netty's parser took the first (a.qq.test).
        byte[] tls = record(withExtensionsForServerName(messageB,
                extension(0, serverNameList(entry(0, "a.qq.test"))), extension(0, serverNameList(entry(0, "b.qq.test")))));
        assertThat(ServerOracle.read(tls).hostName()).isEqualTo("b.qq.test");
        assertUnreadable(refusedByMatch(tls), "ClientHello lists extension 0 twice");
    }

    @Test
    void aWarningAlertBeforeTheHelloEndsTheTunnel() throws Exception {
        // Go's server drops a warning alert before the ClientHello and reads on (conn.go, readRecordOrCCS:
        // "case alertLevelWarning: Drop the record on the floor and retry").
        byte[] tls = concat(record(21, 0x0301, new byte[] {1, 90}), helloB);
        assertUnreadable(refusedByMatch(tls), "a alert record where the ClientHello must come");
    }

    @Test
    void aHandshakeRecordWithAnOddVersionIsStillTls() throws Exception {
        // Go accepts any record version below 0x1000 on the first record (conn.go: "vers >= 0x1000").
        byte[] tls = record(22, 0x0001, messageB);
        assertMismatch(refusedByMatch(tls));
    }

    @Test
    void encryptedClientHelloIsRefusedBehindAnEmptyRecordToo() throws Exception {
        byte[] ech = ConnectSniCheckTest.withEch(new TlsClients(pki.clientContext()).clientHello("a.qq.test"));
        byte[] tls = concat(record(new byte[0]), split(message(ech), 30));
        Answer a = refusedByMatch(tls);
        assertThat(a.bytes()).containsExactly(ACCESS_DENIED);
        assertThat(a.entry().reason()).startsWith("encrypted_client_hello refused by http.echPolicy");
    }

    @Test
    void aHelloThatStopsHalfWayEndsWithinTheHandshakeTimeout() throws Exception {
        byte[] tls = split(messageB, 100);
        long start = System.nanoTime();
        Answer a = refusedByMatch(Arrays.copyOf(tls, 120));
        assertThat((System.nanoTime() - start) / 1_000_000).isBetween(900L, 5000L);
        assertThat(a.bytes()).containsExactly(HANDSHAKE_FAILURE);
        assertThat(a.entry().reason()).isEqualTo("sni_unreadable: no complete ClientHello within timeouts.handshake "
                + "(1000ms)");
    }

    @Test
    void requireRefusesAHelloWithoutServerName() throws Exception {
        byte[] tls = new TlsClients(pki.clientContext()).clientHello(null);
        Answer a = tunnel(require, "127.0.0.142", tls);
        assertThat(a.bytes()).containsExactly(ACCESS_DENIED);
        assertThat(a.entry().reason()).isEqualTo("sni_missing: the tunnel's ClientHello names no server, the CONNECT "
                + "named a.qq.test (http.connectSniCheck: require)");
    }

    @Test
    void requireLetsARealClientThroughAndRefusesOneWithoutServerName() throws Exception {
        Command ok = Command.run(List.of("openssl", "s_client", "-proxy", "127.0.0.142:8080", "-connect",
                "a.qq.test:10443", "-servername", "a.qq.test", "-CAfile", pki.caPem().toString(),
                "-verify_return_error", "-brief"), "");
        assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.err() + ok.out()).contains("Verification: OK");
        Command none = Command.run(List.of("openssl", "s_client", "-proxy", "127.0.0.142:8080", "-connect",
                "a.qq.test:10443", "-noservername", "-CAfile", pki.caPem().toString(), "-brief"), "");
        assertThat(none.exitCode()).isNotZero();
        assertThat(none.err() + none.out()).contains("access denied");
    }
}
