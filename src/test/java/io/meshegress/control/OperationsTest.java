package io.meshegress.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigLoader;
import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.HttpOrigin;
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
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Running it in production, in-process: /metrics after real traffic, live reload (narrowing, invalid, a
 * ConfigMap-style symlink swap, listeners added and removed) and a drain. Proxy on 127.0.0.21.
 */
class OperationsTest {
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.21", 8443);
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.21", 8080);
    static final byte[] UNRECOGNIZED_NAME = {21, 3, 3, 0, 2, 2, 112};

    @TempDir
    Path dir;
    TestDnsServer dns;
    TlsOrigin tls;
    HttpOrigin http;
    RawSinkOrigin raw;
    TlsClients clients;
    ProxyUnderTest proxy;
    ConfigReloader reloader;

    String config(String allow, String extra) {
        return """
                http:
                  listen: "127.0.0.21:8080"
                sni:
                  - listen: "127.0.0.21:8443"
                    upstreamPort: 10443
                %s
                resolver:
                  servers: ["%s"]
                policy:
                  allow: %s
                  denyNetworks: ["10.0.0.0/8"]
                timeouts:
                  drain: 5s
                admin:
                  listen: "127.0.0.21:9901"
                mesh:
                  destinations: []
                """.formatted(extra, dns.configAddress(), allow);
    }

    @BeforeEach
    void start() throws Exception {
        TestPki pki = TestPki.create(dir);
        clients = new TlsClients(pki.clientContext());
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3").answer("raw.qq.test", "127.0.0.4");
        tls = new TlsOrigin("127.0.0.3", 10443, pki);
        http = new HttpOrigin("127.0.0.3", 8081);
        raw = new RawSinkOrigin("127.0.0.4", 10443, 1024);
    }

    /** Starts the proxy on a file, with the same reloader wiring as `run`. */
    void startProxy(Path file) throws Exception {
        proxy = new ProxyUnderTest(Files.readString(file));
        reloader = new ConfigReloader(file, Files.readAllBytes(file), c -> c, proxy.server()::reload,
                proxy.metrics()).start();
    }

    @AfterEach
    void stop() throws Exception {
        if (reloader != null) {
            reloader.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {proxy, tls, http, raw, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void metricsCountExactlyWhatWasSent() throws Exception {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, config("[\"*.qq.test\"]", ""));
        startProxy(file);
        for (int i = 0; i < 3; i++) {
            assertThat(clients.get(SNI, "m.qq.test", "/hello")).contains("sni=m.qq.test");
        }
        // Two requests on one kept-alive client connection (one event loop, so one pool).
        assertThat(curl("-x", "http://127.0.0.21:8080", "http://m.qq.test:8081/hello", "http://m.qq.test:8081/hello")
                .out()).contains("host=m.qq.test");
        assertThat(Sockets.exchange(SNI, clients.clientHello("elsewhere.example"))).isEqualTo(UNRECOGNIZED_NAME);
        List<AccessEntry> entries = Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(proxy::entries, e -> e.size() == 6);
        String metrics = curl("http://127.0.0.21:9901/metrics").out();
        assertThat(value(metrics, "meshegress_connections_total", "decision=\"allowed\",kind=\"sni\",listener=\"sni-8443\",role=\"default\",status=\"200\"")).isEqualTo(3);
        assertThat(value(metrics, "meshegress_connections_total", "decision=\"allowed\",kind=\"http\",listener=\"http\",role=\"default\",status=\"200\"")).isEqualTo(2);
        assertThat(value(metrics, "meshegress_connections_total", "decision=\"refused\",kind=\"sni\",listener=\"sni-8443\",role=\"default\",status=\"403\"")).isEqualTo(1);
        long sniUp = entries.stream().filter(e -> e.kind().equals("sni")).mapToLong(AccessEntry::bytesUp).sum();
        long sniDown = entries.stream().filter(e -> e.kind().equals("sni")).mapToLong(AccessEntry::bytesDown).sum();
        assertThat(value(metrics, "meshegress_transferred_bytes_total", "direction=\"up\",kind=\"sni\",listener=\"sni-8443\"")).isEqualTo(sniUp);
        assertThat(value(metrics, "meshegress_transferred_bytes_total", "direction=\"down\",kind=\"sni\",listener=\"sni-8443\"")).isEqualTo(sniDown);
        assertThat(value(metrics, "meshegress_tunnels_active", "listener=\"sni-8443\"")).isZero();
        // One DNS query, then the cache: 3 tunnels and 2 requests, and the HTTP ones reuse a pooled connection.
        assertThat(value(metrics, "meshegress_dns_cache_hits_total", "")).isEqualTo(3);
        assertThat(value(metrics, "meshegress_dns_resolve_seconds_count", "result=\"answered\",source=\"dns\"")).isEqualTo(1);
        assertThat(value(metrics, "meshegress_upstream_connect_seconds_count", "result=\"connected\"")).isEqualTo(4);
        assertThat(value(metrics, "meshegress_dns_cache_names", "")).isEqualTo(1);
        assertThat(value(metrics, "meshegress_ready", "")).isEqualTo(1);
        assertThat(metrics).contains("meshegress_upstream_connect_seconds_bucket{result=\"connected\",le=\"0.001\"}");
    }

    @Test
    void aReloadThatNarrowsTheAllowListKeepsOldTunnelsAndRefusesNewConnections() throws Exception {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, config("[\"*.qq.test\"]", ""));
        startProxy(file);
        try (Socket old = new Socket()) {
            old.connect(SNI, 5000);
            old.setSoTimeout(10_000);
            byte[] hello = clients.clientHello("raw.qq.test");
            old.getOutputStream().write(hello);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> value(proxy.metrics().scrape(),
                    "meshegress_tunnels_active", "listener=\"sni-8443\"") == 1);
            Files.writeString(file, config("[\"only.qq.test\"]", ""));
            awaitReload("success", 1);
            // New: refused. Old: still carries bytes both ways.
            assertThat(Sockets.exchange(SNI, clients.clientHello("raw.qq.test"))).isEqualTo(UNRECOGNIZED_NAME);
            old.getOutputStream().write("after the reload".getBytes(StandardCharsets.US_ASCII));
            old.shutdownOutput();
            String line = Sockets.readLine(old.getInputStream());
            MessageDigestHelper md = new MessageDigestHelper();
            md.update(hello);
            md.update("after the reload".getBytes(StandardCharsets.US_ASCII));
            assertThat(line).isEqualTo(md.hex());
        }
    }

    @Test
    void aReloadChangesRolesForNewConnectionsOnly() throws Exception {
        Path file = dir.resolve("egress.yaml");
        String team = "[\"*.qq.test\"]\n  roles: [{name: team, clients: [\"127.0.0.0/8\"], allow: [%s]}]";
        Files.writeString(file, config(team.formatted("m.qq.test"), ""));
        startProxy(file);
        try (Socket kept = new Socket()) {
            kept.connect(HTTP, 5000);
            kept.setSoTimeout(10_000);
            String get = "GET http://m.qq.test:8081/hello HTTP/1.1\r\nHost: m.qq.test:8081\r\n\r\n";
            kept.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
            assertThat(response(kept.getInputStream())).startsWith("HTTP/1.1 200");
            Files.writeString(file, config(team.formatted("other.qq.test"), ""));
            awaitReload("success", 1);
            // A new connection has the new role's list; the kept one keeps the role it was accepted with.
            assertThat(Command.run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                    "-x", "http://127.0.0.21:8080", "http://m.qq.test:8081/hello")).out()).isEqualTo("403");
            kept.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
            assertThat(response(kept.getInputStream())).startsWith("HTTP/1.1 200");
        }
        assertThat(proxy.entries()).filteredOn(e -> "m.qq.test".equals(e.host()))
                .extracting(AccessEntry::role).containsOnly("team");
    }

    @Test
    void anInvalidReloadChangesNothing() throws Exception {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, config("[\"*.qq.test\"]", ""));
        startProxy(file);
        Files.writeString(file, "policy:\n  alow: []\n");
        awaitReload("failure", 1);
        // An empty file (an editor caught between truncating and writing) is not taken for "all defaults".
        Files.writeString(file, "");
        awaitReload("failure", 2);
        // Exported at 0 from the start, and still 0.
        assertThat(value(proxy.metrics().scrape(), "meshegress_config_reloads_total", "result=\"success\"")).isZero();
        assertThat(clients.get(SNI, "still.qq.test", "/hello")).contains("sni=still.qq.test");
        assertThat(proxy.server().config().policy().allow()).hasSize(1);
    }

    @Test
    void aConfigMapStyleSymlinkSwapIsPickedUp() throws Exception {
        // What the kubelet does: the file is a symlink into ..data, and ..data is swapped atomically.
        Path v1 = Files.createDirectory(dir.resolve("..2026_11_25_v1"));
        Files.writeString(v1.resolve("egress.yaml"), config("[\"*.qq.test\"]", ""));
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path file = dir.resolve("egress.yaml");
        Files.createSymbolicLink(file, Path.of("..data", "egress.yaml"));
        startProxy(file);
        assertThat(clients.get(SNI, "swap.qq.test", "/hello")).contains("sni=swap.qq.test");
        Path v2 = Files.createDirectory(dir.resolve("..2026_11_25_v2"));
        Files.writeString(v2.resolve("egress.yaml"), config("[\"other.qq.test\"]", ""));
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        awaitReload("success", 1);
        assertThat(Sockets.exchange(SNI, clients.clientHello("swap.qq.test"))).isEqualTo(UNRECOGNIZED_NAME);
        assertThat(clients.get(SNI, "other.qq.test", "/hello")).contains("sni=other.qq.test");
    }

    @Test
    void listenersAddedAndRemovedByAReloadAreOpenedAndClosed() throws Exception {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, config("[\"*.qq.test\"]", ""));
        startProxy(file);
        Files.writeString(file, config("[\"*.qq.test\"]", """
                  - listen: "127.0.0.21:9443"
                    upstreamPort: 10443
                """).replace("http:\n  listen: \"127.0.0.21:8080\"\n", "http: null\n"));
        awaitReload("success", 1);
        assertThat(clients.get(new InetSocketAddress("127.0.0.21", 9443), "new.qq.test", "/hello"))
                .contains("origin=127.0.0.3:10443 sni=new.qq.test");
        assertThatThrownBy(() -> new Socket().connect(HTTP, 2000)).isInstanceOf(ConnectException.class);
        assertThat(proxy.server().listeners()).extracting(l -> l.description().split(" \\(")[0])
                .containsExactlyInAnyOrder("sni 127.0.0.21:8443", "sni 127.0.0.21:9443", "admin 127.0.0.21:9901");
    }

    @Test
    void drainingStopsNewConnectionsAndLetsATunnelFinish() throws Exception {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, config("[\"*.qq.test\"]", ""));
        startProxy(file);
        try (Socket tunnel = new Socket(); Socket idleHttp = new Socket()) {
            tunnel.connect(SNI, 5000);
            tunnel.setSoTimeout(10_000);
            byte[] hello = clients.clientHello("raw.qq.test");
            tunnel.getOutputStream().write(hello);
            idleHttp.connect(HTTP, 5000);
            idleHttp.setSoTimeout(10_000);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> proxy.server().openConnections() == 2);
            long start = System.nanoTime();
            CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> proxy.server().drain(Duration.ofSeconds(8)));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.server().ready());
            assertThat(curlStatus("http://127.0.0.21:9901/readyz")).isEqualTo("503");
            assertThatThrownBy(() -> new Socket().connect(SNI, 2000)).isInstanceOf(ConnectException.class);
            // The idle HTTP connection is closed at once; the tunnel still works and ends on its own.
            assertThat(idleHttp.getInputStream().read()).isEqualTo(-1);
            tunnel.getOutputStream().write("during the drain".getBytes(StandardCharsets.US_ASCII));
            tunnel.shutdownOutput();
            MessageDigestHelper md = new MessageDigestHelper();
            md.update(hello);
            md.update("during the drain".getBytes(StandardCharsets.US_ASCII));
            assertThat(Sockets.readLine(tunnel.getInputStream())).isEqualTo(md.hex());
            drained.get();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(7));
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** One response on a kept-alive connection: its head, with the body (Content-Length) read past. */
    static String response(java.io.InputStream in) throws Exception {
        String head = TlsClients.readHead(in);
        java.util.regex.Matcher m = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
        assertThat(m.find()).as(head).isTrue();
        in.readNBytes(Integer.parseInt(m.group(1)));
        return head;
    }

    void awaitReload(String result, long count) {
        Awaitility.await().atMost(Duration.ofSeconds(15))
                .until(() -> value(proxy.metrics().scrape(), "meshegress_config_reloads_total",
                        "result=\"" + result + "\"") == count);
    }

    /** A sample's value from the Prometheus text format; -1 when absent. */
    static long value(String metrics, String name, String labels) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + (labels.isEmpty() ? "" : "\\{" + Pattern.quote(labels) + "\\}")
                + " ([0-9.eE+-]+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(metrics);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    static Command curl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "20", "--noproxy", ""));
        cmd.addAll(List.of(args));
        Command c = Command.run(cmd);
        assertThat(c.exitCode()).as(c.err()).isZero();
        return c;
    }

    static String curlStatus(String url) throws Exception {
        return Command.run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", url)).out();
    }

    static final class MessageDigestHelper {
        private final java.security.MessageDigest md = DeterministicBytes.sha256();

        void update(byte[] b) {
            md.update(b);
        }

        String hex() {
            return HexFormat.of().formatHex(md.digest());
        }
    }
}
