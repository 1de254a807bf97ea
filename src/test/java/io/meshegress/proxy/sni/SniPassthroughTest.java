package io.meshegress.proxy.sni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.AccessLogFormats;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.RawSinkOrigin;
import io.meshegress.testing.Sockets;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SNI listener over the real wire: a DNS server, TLS origins and a raw origin on 127.0.0.3/.4, the proxy
 * on 127.0.0.2 with a fixed-upstream-port listener (8443 -> 10443) and a same-port listener (9443 -> 9443).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SniPassthroughTest {
    static final InetSocketAddress FIXED = new InetSocketAddress("127.0.0.2", 8443);
    static final InetSocketAddress SAME_PORT = new InetSocketAddress("127.0.0.2", 9443);
    static final byte[] UNRECOGNIZED_NAME = {21, 3, 3, 0, 2, 2, 112};
    static final byte[] HANDSHAKE_FAILURE = {21, 3, 3, 0, 2, 2, 40};
    static final long MIB = 1024 * 1024;

    TestDnsServer dns;
    TlsOrigin origin10443;
    TlsOrigin origin9443;
    RawSinkOrigin rawSink;
    ProxyUnderTest proxy;
    TlsClients clients;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        clients = new TlsClients(pki.clientContext());
        dns = TestDnsServer.start("127.0.0.1")
                .answer("*.qq.test", "127.0.0.3")
                .answer("raw.qq.test", "127.0.0.4")
                .answer("blocked.qq.test", "127.0.0.9")
                .neverAnswer("blackhole.qq.test");
        origin10443 = new TlsOrigin("127.0.0.3", 10443, pki);
        origin9443 = new TlsOrigin("127.0.0.3", 9443, pki);
        rawSink = new RawSinkOrigin("127.0.0.4", 10443, 64 * MIB);
        proxy = new ProxyUnderTest("""
                http: null
                sni:
                  - listen: "127.0.0.2:8443"
                    upstreamPort: 10443
                  - listen: "127.0.0.2:9443"
                resolver:
                  servers: ["%s"]
                  queryTimeout: 1s
                  hosts:
                    static.qq.test: 127.0.0.3
                    closed.qq.test: 127.0.0.6
                    loop.qq.test: 127.0.0.2
                timeouts:
                  connect: 2s
                  handshake: 1s
                  idle: 3s
                policy:
                  allow: ["*.qq.test", "*.nx.test"]
                  deny: ["*.deny.qq.test"]
                  denyNetworks: ["127.0.0.9/32", "10.0.0.0/8"]
                admin:
                  listen: "127.0.0.2:9901"
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, origin10443, origin9443, rawSink, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void fixedPortListenerTunnelsToTheConfiguredUpstreamPortWithSniUnchanged() throws Exception {
        String body = clients.get(FIXED, "www.qq.test", "/hello");
        assertThat(body).isEqualTo("origin=127.0.0.3:10443 sni=www.qq.test\n");
        AccessEntry e = proxy.awaitEntry(a -> "www.qq.test".equals(a.host()) && a.port() == 10443);
        assertThat(e.kind()).isEqualTo("sni");
        assertThat(e.listener()).isEqualTo("sni 127.0.0.2:8443");
        assertThat(e.decision()).isEqualTo("allowed");
        assertThat(e.resolved()).isEqualTo("127.0.0.3");
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.bytesUp()).isPositive();
        assertThat(e.bytesDown()).isGreaterThan(e.bytesUp() / 4);
        assertThat(e.client()).startsWith("127.0.0.1:");
        String json = AccessLogFormats.json(e);
        assertThat(json).contains("\"kind\":\"sni\"", "\"host\":\"www.qq.test\"", "\"port\":10443",
                "\"resolved\":\"127.0.0.3\"", "\"decision\":\"allowed\"", "\"bytesUp\":", "\"durationMs\":");
    }

    @Test
    void sameAsOwnPortListenerTunnelsToItsOwnPort() throws Exception {
        assertThat(clients.get(SAME_PORT, "api.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:9443 sni=api.qq.test\n");
    }

    @Test
    void staticHostsAreUsedBeforeDns() throws Exception {
        long before = dns.questionsFor("static.qq.test");
        assertThat(clients.get(FIXED, "static.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:10443 sni=static.qq.test\n");
        assertThat(dns.questionsFor("static.qq.test")).isEqualTo(before);
    }

    @Test
    void answersAreCachedSoRepeatedConnectionsAskDnsOnce() throws Exception {
        clients.get(FIXED, "cache.qq.test", "/hello");
        clients.get(FIXED, "cache.qq.test", "/hello");
        clients.get(SAME_PORT, "cache.qq.test", "/hello");
        assertThat(dns.questionsFor("cache.qq.test")).isEqualTo(1);
    }

    @Test
    void negativeAnswersAreCachedToo() throws Exception {
        double cached = cachedNames();
        assertThat(Sockets.exchange(FIXED, clients.clientHello("nothing.nx.test"))).isEqualTo(UNRECOGNIZED_NAME);
        // Netty may answer the lookup a moment before it files the answer in the cache (on the loop that asked);
        // the second connection can land on another loop, so it waits for the cache, not for a clock.
        Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> cachedNames() > cached);
        assertThat(Sockets.exchange(FIXED, clients.clientHello("nothing.nx.test"))).isEqualTo(UNRECOGNIZED_NAME);
        assertThat(dns.questionsFor("nothing.nx.test")).isEqualTo(1);
    }

    private double cachedNames() {
        return proxy.metrics().scrape().lines().filter(l -> l.startsWith("meshegress_dns_cache_names "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(0);
    }

    @Test
    void sixtyFourMebibytesEachWayThroughTlsKeepTheirHashes() throws Exception {
        TlsClients.Digest down = clients.download(FIXED, "bulk.qq.test", "/bytes?n=" + 64 * MIB + "&seed=7");
        assertThat(down.length()).isEqualTo(64 * MIB);
        assertThat(down.sha256()).isEqualTo(DeterministicBytes.sha256(7, 64 * MIB));
        String up = clients.upload(SAME_PORT, "bulk.qq.test", 8, 64 * MIB);
        assertThat(up).isEqualTo(DeterministicBytes.sha256(8, 64 * MIB) + " " + 64 * MIB);
    }

    @Test
    void rawBytesArriveUnchangedBothWaysAndHalfCloseIsPassedOn() throws Exception {
        byte[] hello = clients.clientHello("raw.qq.test");
        MessageDigest sent = DeterministicBytes.sha256();
        try (Socket s = new Socket()) {
            s.connect(FIXED, 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(hello);
            sent.update(hello);
            DeterministicBytes payload = new DeterministicBytes(5, 64 * MIB);
            byte[] block = new byte[DeterministicBytes.BLOCK];
            int n;
            while ((n = payload.next(block)) > 0) {
                out.write(block, 0, n);
                sent.update(block, 0, n);
            }
            out.flush();
            // The origin answers only after it has seen the end of our input.
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            String line = Sockets.readLine(in);
            assertThat(line).isEqualTo(HexFormat.of().formatHex(sent.digest()));
            TlsClients.Digest back = TlsClients.Digest.of(in);
            assertThat(back.length()).isEqualTo(64 * MIB);
            assertThat(back.sha256()).isEqualTo(DeterministicBytes.sha256(RawSinkOrigin.SEED, 64 * MIB));
        }
    }

    @Test
    void clientHelloSplitAcrossSegmentsAndRecordsIsReassembledAndReplayedUnchanged() throws Exception {
        byte[] hello = clients.clientHello("raw.qq.test");
        byte[] reframed = splitIntoRecords(hello, 50);
        for (byte[] firstFlight : List.of(hello, reframed)) {
            try (Socket s = new Socket()) {
                s.setTcpNoDelay(true);
                s.connect(FIXED, 5000);
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                for (int i = 0; i < firstFlight.length; i += 7) {
                    out.write(firstFlight, i, Math.min(7, firstFlight.length - i));
                    out.flush();
                }
                s.shutdownOutput();
                String line = Sockets.readLine(s.getInputStream());
                assertThat(line).isEqualTo(HexFormat.of().formatHex(DeterministicBytes.sha256().digest(firstFlight)));
            }
        }
    }

    @Test
    void twoHundredConcurrentConnections() throws Exception {
        int count = 200;
        ExecutorService pool = Executors.newFixedThreadPool(count);
        CountDownLatch allAnswered = new CountDownLatch(count);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String host = "c" + i + ".qq.test";
                InetSocketAddress listener = i % 2 == 0 ? FIXED : SAME_PORT;
                results.add(pool.submit(() -> {
                    try (var s = clients.connect(listener, host)) {
                        s.getOutputStream().write(("GET /hello HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        InputStream in = s.getInputStream();
                        TlsClients.readHead(in);
                        byte[] body = in.readNBytes(("origin=127.0.0.3:10443 sni=" + host + "\n").length());
                        allAnswered.countDown();
                        // Hold every connection open until all 200 are up at once.
                        allAnswered.await(60, TimeUnit.SECONDS);
                        return new String(body, StandardCharsets.UTF_8);
                    }
                }));
            }
            for (int i = 0; i < count; i++) {
                String port = i % 2 == 0 ? "10443" : "9443";
                assertThat(results.get(i).get(90, TimeUnit.SECONDS))
                        .startsWith("origin=127.0.0.3:" + port + " sni=c" + i + ".qq.test");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void clientHelloWithoutServerNameGetsUnrecognizedName() throws Exception {
        assertThat(Sockets.exchange(FIXED, clients.clientHello(null))).isEqualTo(UNRECOGNIZED_NAME);
        proxy.awaitEntry(e -> "ClientHello has no server_name".equals(e.reason()) && "unrecognized_name".equals(e.alert()));
        assertStillServing();
    }

    @Test
    void plainTextGetsHandshakeFailure() throws Exception {
        byte[] http = "GET / HTTP/1.1\r\nHost: www.qq.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(Sockets.exchange(FIXED, http)).isEqualTo(HANDSHAKE_FAILURE);
        proxy.awaitEntry(e -> "not a TLS ClientHello".equals(e.reason()));
        assertStillServing();
    }

    @Test
    void clientHelloThatStopsHalfWayTimesOutWithHandshakeFailure() throws Exception {
        byte[] hello = clients.clientHello("www.qq.test");
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.connect(FIXED, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(Arrays.copyOf(hello, hello.length / 2));
            s.getOutputStream().flush();
            // No shutdownOutput: the client just goes quiet, as a slowloris would.
            assertThat(s.getInputStream().readAllBytes()).isEqualTo(HANDSHAKE_FAILURE);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(900L, 5000L);
        proxy.awaitEntry(e -> e.reason().startsWith("no complete ClientHello within timeouts.handshake") && e.status() == 408);
        assertStillServing();
    }

    @Test
    void clientHelloLargerThan64KibIsRefused() throws Exception {
        // A handshake header announcing a 70,000-byte ClientHello, then the first full record of it.
        int helloLength = 70_000;
        byte[] record = new byte[5 + 16384];
        record[0] = 22;
        record[1] = 3;
        record[2] = 1;
        record[3] = (byte) (16384 >> 8);
        record[4] = (byte) 16384;
        record[5] = 1;
        record[6] = (byte) (helloLength >> 16);
        record[7] = (byte) (helloLength >> 8);
        record[8] = (byte) helloLength;
        record[9] = 3;
        record[10] = 3;
        assertThat(Sockets.exchange(FIXED, record)).isEqualTo(HANDSHAKE_FAILURE);
        proxy.awaitEntry(e -> e.reason().startsWith("ClientHello larger than 65536"));
        assertStillServing();
    }

    @Test
    void unresolvableNameGetsUnrecognizedName() throws Exception {
        assertThat(Sockets.exchange(FIXED, clients.clientHello("missing.nx.test"))).isEqualTo(UNRECOGNIZED_NAME);
        AccessEntry e = proxy.awaitEntry(a -> "missing.nx.test".equals(a.host()));
        assertThat(e.decision()).isEqualTo("refused");
        assertThat(e.reason()).isEqualTo("missing.nx.test could not be resolved");
        assertThat(e.status()).isEqualTo(502);
        assertStillServing();
    }

    @Test
    void refusedPortGetsHandshakeFailure() throws Exception {
        assertThat(Sockets.exchange(FIXED, clients.clientHello("closed.qq.test"))).isEqualTo(HANDSHAKE_FAILURE);
        AccessEntry e = proxy.awaitEntry(a -> "closed.qq.test".equals(a.host()));
        assertThat(e.reason()).startsWith("connect to 127.0.0.6:10443 failed");
        assertThat(e.resolved()).isEqualTo("127.0.0.6");
        assertStillServing();
    }

    @Test
    void destinationInDenyNetworksIsRefusedWithoutConnecting() throws Exception {
        assertThat(Sockets.exchange(FIXED, clients.clientHello("blocked.qq.test"))).isEqualTo(HANDSHAKE_FAILURE);
        AccessEntry e = proxy.awaitEntry(a -> "blocked.qq.test".equals(a.host()));
        assertThat(e.reason()).isEqualTo("127.0.0.9 refused by policy.denyNetworks[0] \"127.0.0.9/32\"");
        assertThat(e.status()).isEqualTo(403);
        assertStillServing();
    }

    @Test
    void deniedNameGetsUnrecognizedName() throws Exception {
        assertThat(Sockets.exchange(FIXED, clients.clientHello("x.deny.qq.test"))).isEqualTo(UNRECOGNIZED_NAME);
        AccessEntry e = proxy.awaitEntry(a -> "x.deny.qq.test".equals(a.host()));
        assertThat(e.reason()).isEqualTo("refused by policy.deny[0] \"*.deny.qq.test\"");
        assertThat(dns.questionsFor("x.deny.qq.test")).isZero();
    }

    @Test
    void destinationThatIsTheProxyItselfIsRefused() throws Exception {
        assertThat(Sockets.exchange(SAME_PORT, clients.clientHello("loop.qq.test"))).isEqualTo(HANDSHAKE_FAILURE);
        AccessEntry e = proxy.awaitEntry(a -> "loop.qq.test".equals(a.host()));
        assertThat(e.reason()).isEqualTo("destination 127.0.0.2:9443 is this proxy itself");
        assertThat(e.status()).isEqualTo(508);
    }

    @Test
    void nameWhoseDnsQueryIsNeverAnsweredCostsBoundedTimeAndOthersKeepWorking() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<byte[]> stuck = CompletableFuture.supplyAsync(() -> {
            try {
                return Sockets.exchange(FIXED, clients.clientHello("blackhole.qq.test"));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // While that lookup hangs, other names resolve and tunnel.
        assertThat(clients.get(FIXED, "during.qq.test", "/hello")).contains("sni=during.qq.test");
        assertThat(stuck.get(10, TimeUnit.SECONDS)).isEqualTo(UNRECOGNIZED_NAME);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(8000);
        AccessEntry e = proxy.awaitEntry(a -> "blackhole.qq.test".equals(a.host()));
        assertThat(e.reason()).isEqualTo("DNS query for blackhole.qq.test timed out");
    }

    @Test
    void idleTunnelIsClosedAfterTimeoutsIdle() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(FIXED, 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write(clients.clientHello("raw.qq.test"));
            s.getOutputStream().flush();
            long start = System.nanoTime();
            // The raw origin waits for our end of input, so nothing moves: the proxy must end it at 3s idle.
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(2500L, 10_000L);
        }
    }

    @Test
    void tlsClientSeesAlertAsAnSslException() {
        assertThatThrownBy(() -> clients.get(FIXED, "y.deny.qq.test", "/hello"))
                .isInstanceOf(SSLException.class)
                .hasMessageContaining("unrecognized_name");
    }

    /** A good request through each listener still works. */
    private void assertStillServing() throws Exception {
        assertThat(clients.get(FIXED, "ok.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:10443 sni=ok.qq.test\n");
        assertThat(clients.get(SAME_PORT, "ok.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:9443 sni=ok.qq.test\n");
    }

    /** Re-frames one TLS handshake record's payload into records of at most {@code size} bytes. */
    static byte[] splitIntoRecords(byte[] record, int size) {
        int length = ((record[3] & 0xff) << 8) | (record[4] & 0xff);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < length; i += size) {
            int n = Math.min(size, length - i);
            out.write(record[0]);
            out.write(record[1]);
            out.write(record[2]);
            out.write(n >> 8);
            out.write(n);
            out.write(record, 5 + i, n);
        }
        out.write(record, 5 + length, record.length - 5 - length);
        return out.toByteArray();
    }
}
