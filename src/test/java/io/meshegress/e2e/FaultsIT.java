package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.FaultyOrigin;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.Sockets;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TlsClients;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the network around the built jar (48 MiB heap, 32 MiB direct memory), each with what must not be
 * lost: upstreams that reset, stall, answer only a head or trickle; DNS that is silent, fails, truncates or
 * flips between an allowed and a denied address with TTL 0; a client that stops reading in the middle of 1 GiB.
 * After every fault the same process still serves a healthy request, and every failed exchange left its
 * access-log line naming the cause.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultsIT {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.81", 8080);
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.81", 8443);
    static final long GIB = 1024L * 1024 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    TestDnsServer dns;
    final List<AutoCloseable> origins = new ArrayList<>();
    FaultyOrigin denied;
    FaultyOrigin flipAllowed;
    JarProcess proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        dns = TestDnsServer.start("127.0.0.1")
                .answer("ok.f.test", "127.0.0.82").answer("reset.f.test", "127.0.0.83")
                .answer("headonly.f.test", "127.0.0.84").answer("trickle.f.test", "127.0.0.85")
                .answer("rsttls.f.test", "127.0.0.86").answer("big.f.test", "127.0.0.87")
                .neverAnswer("silentdns.f.test").servfail("servfail.f.test").truncate("tc.f.test")
                .alternate("flip.f.test", "127.0.0.89", "127.0.0.9");
        origins.add(new FaultyOrigin("127.0.0.82", 8081, FaultyOrigin.Behaviour.ANSWER));
        origins.add(new FaultyOrigin("127.0.0.83", 8081, FaultyOrigin.Behaviour.RESET_MID_BODY));
        origins.add(new FaultyOrigin("127.0.0.84", 8081, FaultyOrigin.Behaviour.HEAD_ONLY));
        origins.add(new FaultyOrigin("127.0.0.85", 8081, FaultyOrigin.Behaviour.TRICKLE));
        origins.add(new FaultyOrigin("127.0.0.86", 8443, FaultyOrigin.Behaviour.RESET_ON_FIRST_BYTES));
        origins.add(new HttpOrigin("127.0.0.87", 8081));
        // The allowed side of the flipping name closes after every answer, so no request is served from the pool:
        // each one is resolved anew and meets the next answer (a pooled connection would skip the flip).
        flipAllowed = new FaultyOrigin("127.0.0.89", 8081, FaultyOrigin.Behaviour.ANSWER_AND_CLOSE);
        origins.add(flipAllowed);
        denied = new FaultyOrigin("127.0.0.9", 8081, FaultyOrigin.Behaviour.ANSWER);
        Path config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                http:
                  listen: "127.0.0.81:8080"
                sni:
                  - listen: "127.0.0.81:8443"
                admin: null
                resolver:
                  servers: ["%s"]
                  queryTimeout: 1s
                  negativeTtl: 0s
                timeouts:
                  idle: 2s
                  response: 3s
                policy:
                  allow: ["*.f.test"]
                  denyNetworks: ["127.0.0.9/32"]
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
        proxy = JarProcess.start(List.of("-Xmx48m", "-XX:MaxDirectMemorySize=32m"), "run", "-c", config.toString());
        proxy.awaitErr(l -> l.contains("listening: http 127.0.0.81:8080"));
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        for (AutoCloseable c : origins) {
            c.close();
        }
        if (denied != null) {
            denied.close();
        }
        if (dns != null) {
            dns.close();
        }
    }

    private Command curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-m", "20", "-x", "http://127.0.0.81:8080",
                "-w", "\n%{http_code}"));
        cmd.addAll(List.of(args));
        return Command.run(cmd);
    }

    private JsonNode logLine(Predicate<JsonNode> match) {
        return Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> proxy.out().stream()
                .filter(l -> l.startsWith("{")).map(FaultsIT::parse).filter(match).findFirst().orElse(null),
                n -> n != null);
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("access-log line is not JSON: " + line, e);
        }
    }

    private void stillServes() throws Exception {
        Command ok = curl("http://ok.f.test:8081/");
        assertThat(ok.out()).isEqualTo("ok\n200");
    }

    @Test
    void anUpstreamResetMidBodyEndsTheClientsResponseEarlyAndIsLogged() throws Exception {
        Command c = curl("-o", "/dev/null", "http://reset.f.test:8081/");
        assertThat(c.exitCode()).as("curl: transfer closed with data outstanding").isEqualTo(18);
        JsonNode line = logLine(n -> "reset.f.test".equals(n.path("host").asText()));
        assertThat(line.get("status").asInt()).isEqualTo(502);
        assertThat(line.get("reason").asText()).contains("in the middle of the response");
        assertThat(line.get("bytesDown").asLong()).isEqualTo(65536);
        stillServes();
    }

    @Test
    void anUpstreamResetMidTlsHandshakeClosesTheTunnelAndIsLogged() throws Exception {
        byte[] hello = new TlsClients(SSLContext.getDefault()).clientHello("rsttls.f.test");
        byte[] reply = Sockets.exchange(SNI, hello);
        assertThat(reply).isEmpty();
        JsonNode line = logLine(n -> "rsttls.f.test".equals(n.path("host").asText()));
        assertThat(line.get("kind").asText()).isEqualTo("sni");
        assertThat(line.get("bytesUp").asLong()).isEqualTo(hello.length);
        assertThat(line.get("bytesDown").asLong()).isZero();
        stillServes();
    }

    @Test
    void anUpstreamThatSendsOnlyAHeadIsCutAtTheIdleTimeoutAndBlamed() throws Exception {
        long start = System.nanoTime();
        Command c = curl("-o", "/dev/null", "http://headonly.f.test:8081/");
        assertThat(c.exitCode()).isEqualTo(18);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        JsonNode line = logLine(n -> "headonly.f.test".equals(n.path("host").asText()));
        assertThat(line.get("status").asInt()).isEqualTo(502);
        assertThat(line.get("reason").asText()).contains("stalled").contains("timeouts.idle");
        stillServes();
    }

    @Test
    void aTricklingUpstreamIsRelayedWhole() throws Exception {
        assertThat(curl("http://trickle.f.test:8081/").out()).isEqualTo("ok\n200");
        JsonNode line = logLine(n -> "trickle.f.test".equals(n.path("host").asText()));
        assertThat(line.get("status").asInt()).isEqualTo(200);
        assertThat(line.get("bytesDown").asLong()).isEqualTo(2);
    }

    @Test
    void dnsThatIsSilentFailsOrTruncatesGetsA502NamingItAndNothingElseStops() throws Exception {
        for (String host : List.of("silentdns.f.test", "servfail.f.test", "tc.f.test")) {
            Command c = curl("http://" + host + ":8081/");
            assertThat(c.out()).as(host).endsWith("502");
            JsonNode line = logLine(n -> host.equals(n.path("host").asText()));
            assertThat(line.get("status").asInt()).isEqualTo(502);
            assertThat(line.get("reason").asText()).as(host).containsAnyOf("timed out", "could not be resolved");
        }
        assertThat(logLine(n -> "silentdns.f.test".equals(n.path("host").asText())).get("reason").asText())
                .contains("timed out");
        stillServes();
    }

    @Test
    void anAnswerFlippingBetweenAllowedAndDeniedWithTtlZeroNeverReachesTheDeniedAddress() throws Exception {
        List<String> codes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String out = curl("http://flip.f.test:8081/").out();
            codes.add(out.substring(out.length() - 3));
        }
        assertThat(codes).contains("200", "403").containsOnly("200", "403");
        assertThat(denied.connections()).isZero();
        // Every 200 came over a connection of its own: each request was decided on a fresh answer.
        assertThat(flipAllowed.connections()).isEqualTo((int) codes.stream().filter("200"::equals).count());
        assertThat(logLine(n -> "flip.f.test".equals(n.path("host").asText()) && n.path("status").asInt() == 403)
                .get("reason").asText()).contains("127.0.0.9").contains("policy.denyNetworks[0]");
    }

    @Test
    void aClientThatStopsReadingHoldsTheProxysMemoryBoundedAndLosesNoByte() throws Exception {
        long baseline = rssKib();
        try (Socket s = new Socket()) {
            s.connect(HTTP, 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /bytes?n=" + GIB + "&seed=11 HTTP/1.1\r\nHost: big.f.test:8081\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            long total = readInto(in, sha, buf, 64L * 1024 * 1024);
            // Stop reading for a while (shorter than timeouts.idle: bytes still drain into the socket buffers).
            long peak = 0;
            long until = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            while (System.nanoTime() < until) {
                peak = Math.max(peak, rssKib());
                Awaitility.await().pollDelay(Duration.ofMillis(100)).until(() -> true);
            }
            total += readInto(in, sha, buf, Long.MAX_VALUE);
            assertThat(total).isEqualTo(GIB);
            assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(DeterministicBytes.sha256(11, GIB));
            // The bound: the heap and direct-memory caps the process runs with, whatever the client does.
            System.out.printf("RSS before the download %d KiB, peak while the client did not read %d KiB%n",
                    baseline, peak);
            assertThat(peak - baseline).as("RSS growth while the client did not read, KiB").isLessThan(96 * 1024);
        }
        JsonNode line = logLine(n -> "big.f.test".equals(n.path("host").asText()));
        assertThat(line.get("bytesDown").asLong()).isEqualTo(GIB);
    }

    @Test
    void runningOutOfFileDescriptorsRefusesSomeAndRecovers(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                http:
                  listen: "127.0.0.88:8080"
                sni: null
                admin: null
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["*.f.test"]
                  denyNetworks: []
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
        try (JarProcess limited = JarProcess.startWithFileLimit(128, List.of("-Xmx48m"), "run", "-c", config.toString())) {
            limited.awaitErr(l -> l.contains("listening: http 127.0.0.88:8080"));
            InetSocketAddress at = new InetSocketAddress("127.0.0.88", 8080);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 200; i++) {
                    Socket s = new Socket();
                    s.connect(at, 5000);
                    held.add(s);
                }
                // Some of those were accepted and some wait in the backlog: the process has no descriptor left.
                // It stays up, and once they are gone it serves again.
                Path fds = Path.of("/proc", Long.toString(limited.process().pid()), "fd");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try (var list = Files.list(fds)) {
                        return list.count() >= 127;
                    }
                });
                assertThat(limited.process().isAlive()).isTrue();
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                Command c = Command.run(List.of("curl", "-s", "-m", "5", "-x", "http://127.0.0.88:8080",
                        "http://ok.f.test:8081/"));
                return c.out().equals("ok");
            });
            assertThat(limited.process().isAlive()).isTrue();
            // One line an operator can act on, not a stack trace per failed accept.
            assertThat(limited.err()).anyMatch(l -> l.contains("http 127.0.0.88:8080: out of file descriptors"));
            assertThat(limited.err()).noneMatch(l -> l.contains("reached at the tail of the pipeline"));
        }
    }

    private long readInto(InputStream in, MessageDigest sha, byte[] buf, long limit) throws Exception {
        long total = 0;
        int n;
        while (total < limit && (n = in.read(buf, 0, (int) Math.min(buf.length, limit - total))) > 0) {
            sha.update(buf, 0, n);
            total += n;
        }
        return total;
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private long rssKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(proxy.process().pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }
}
