package io.meshegress.proxyprotocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * http.connectSniCheck and http.echPolicy with real clients: openssl s_client through a CONNECT tunnel naming
 * another server than the tunnel's host is refused with a TLS alert and logged sni_mismatch; matching names and
 * a plain-HTTP tunnel (curl -p) pass; a ClientHello carrying Encrypted Client Hello is refused under
 * echPolicy: refuse and counted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectSniCheckTest {
    static final String CONFIG = """
            http:
              listen: "%s:8080"
              connectPorts: [10443, 8081]
              connectSniCheck: true
              echPolicy: %s
            sni: null
            admin: null
            resolver:
              hosts: {a.qq.test: 127.0.0.131, b.qq.test: 127.0.0.131}
            timeouts:
              handshake: 1s
            policy:
              allow: ["*.qq.test"]
              denyNetworks: []
            mesh:
              destinations: []
            """;

    TestPki pki;
    TlsOrigin tls;
    HttpOrigin http;
    ProxyUnderTest proxy;
    ProxyUnderTest refusesEch;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        pki = TestPki.create(dir);
        tls = new TlsOrigin("127.0.0.131", 10443, pki);
        http = new HttpOrigin("127.0.0.131", 8081);
        proxy = new ProxyUnderTest(CONFIG.formatted("127.0.0.130", "allow"));
        refusesEch = new ProxyUnderTest(CONFIG.formatted("127.0.0.132", "refuse"));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, refusesEch, tls, http}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private Command sClient(String servername) throws Exception {
        return Command.run(List.of("openssl", "s_client", "-proxy", "127.0.0.130:8080", "-connect", "a.qq.test:10443",
                "-servername", servername, "-CAfile", pki.caPem().toString(), "-verify_return_error", "-brief"), "");
    }

    @Test
    void aClientHelloNamingAnotherServerIsRefused() throws Exception {
        Command c = sClient("b.qq.test");
        assertThat(c.exitCode()).as(c.out() + c.err()).isNotZero();
        assertThat(c.err() + c.out()).contains("access denied");
        AccessEntry e = proxy.awaitEntry(x -> x.kind().equals("connect") && x.reason().startsWith("sni_mismatch"));
        assertThat(e.reason()).isEqualTo("sni_mismatch: the tunnel's ClientHello names b.qq.test, the CONNECT named "
                + "a.qq.test (http.connectSniCheck)");
        assertThat(e.alert()).isEqualTo("access_denied");
        assertThat(e.decision()).isEqualTo("refused");
    }

    @Test
    void matchingNamesPassCaseAndTrailingDotAside() throws Exception {
        Command c = sClient("A.QQ.TEST");
        assertThat(c.exitCode()).as(c.out() + c.err()).isZero();
        assertThat(c.err() + c.out()).contains("Verification: OK");
    }

    @Test
    void aPlainHttpTunnelPassesUnchanged() throws Exception {
        Command c = Command.run(List.of("curl", "-sS", "--fail", "--max-time", "10", "-p", "-x",
                "http://127.0.0.130:8080", "http://a.qq.test:8081/hello"));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("a.qq.test:8081");
    }

    @Test
    void aTunnelWhoseClientIsSilentAtFirstIsNotCutByTheCheck() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.130", 8080), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("CONNECT a.qq.test:8081 HTTP/1.1\r\nHost: a.qq.test:8081\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(io.meshegress.testing.TlsClients.readHead(s.getInputStream())).startsWith("HTTP/1.1 200");
            int port = s.getLocalPort();
            // Silent for longer than timeouts.handshake (1s): the tunnel's line would be written if it closed.
            org.awaitility.Awaitility.await().during(java.time.Duration.ofMillis(1500))
                    .atMost(java.time.Duration.ofSeconds(4)).until(() -> proxy.entries().stream()
                            .noneMatch(e -> e.client().endsWith(":" + port)));
            s.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: a.qq.test:8081\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void encryptedClientHelloIsRefusedUnderEchPolicyRefuse() throws Exception {
        byte[] hello = withEch(new TlsClients(pki.clientContext()).clientHello("a.qq.test"));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.132", 8080), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("CONNECT a.qq.test:10443 HTTP/1.1\r\nHost: a.qq.test:10443\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(hello);
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            assertThat(text).startsWith("HTTP/1.1 200");
            // The last seven bytes: a fatal access_denied alert record.
            assertThat(java.util.Arrays.copyOfRange(all, all.length - 7, all.length))
                    .containsExactly(21, 3, 3, 0, 2, 2, 49);
        }
        AccessEntry e = refusesEch.awaitEntry(x -> x.kind().equals("connect"));
        assertThat(e.reason()).startsWith("encrypted_client_hello refused by http.echPolicy");
        assertThat(refusesEch.metrics().scrape()).containsPattern(
                "meshegress_encrypted_client_hello_total\\{action=\"refused\",listener=\"http\",?} 1");
    }

    /** A real ClientHello record with an empty encrypted_client_hello extension appended (lengths fixed up). */
    static byte[] withEch(byte[] record) {
        ByteBuffer in = ByteBuffer.wrap(record);
        int body = 5 + 4;
        int i = body + 2 + 32;
        i += 1 + (in.get(i) & 0xff);
        i += 2 + (in.getShort(i) & 0xffff);
        i += 1 + (in.get(i) & 0xff);
        int extLengthAt = i;
        ByteBuffer out = ByteBuffer.allocate(record.length + 4);
        out.put(record).put((byte) 0xfe).put((byte) 0x0d).put((byte) 0).put((byte) 0);
        out.putShort(3, (short) ((in.getShort(3) & 0xffff) + 4));
        int handshakeLength = ((in.get(6) & 0xff) << 16 | (in.get(7) & 0xff) << 8 | (in.get(8) & 0xff)) + 4;
        out.put(6, (byte) (handshakeLength >> 16)).put(7, (byte) (handshakeLength >> 8)).put(8, (byte) handshakeLength);
        out.putShort(extLengthAt, (short) ((in.getShort(extLengthAt) & 0xffff) + 4));
        return out.array();
    }
}
