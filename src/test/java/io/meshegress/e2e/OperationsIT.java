package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jar as Kubernetes runs it: SIGTERM drains, SIGHUP reloads, the access log goes where it is told. */
class OperationsIT {
    static final long MIB = 1024 * 1024;
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.22", 8443);

    @TempDir
    Path dir;
    TestPki pki;
    TestDnsServer dns;
    TlsOrigin origin;
    Path config;
    Path accessLog;
    JarProcess proxy;

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.create(dir);
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3");
        origin = new TlsOrigin("127.0.0.3", 10443, pki);
        config = dir.resolve("egress.yaml");
        accessLog = dir.resolve("access.log");
        Files.writeString(config, config("[\"*.qq.test\"]"));
        proxy = JarProcess.start("run", "-c", config.toString());
        proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.22:9901"));
    }

    String config(String allow) {
        return """
                http: null
                sni:
                  - listen: "127.0.0.22:8443"
                    upstreamPort: 10443
                resolver:
                  servers: ["%s"]
                policy:
                  allow: %s
                  denyNetworks: ["10.0.0.0/8"]
                timeouts:
                  drain: 20s
                admin:
                  listen: "127.0.0.22:9901"
                accessLog:
                  destination: "%s"
                  format: text
                mesh:
                  destinations: []
                """.formatted(dns.configAddress(), allow, accessLog);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, origin, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void sigtermDrainsARunningTransferToTheEndThenExitsZero() throws Exception {
        TlsClients clients = new TlsClients(pki.clientContext());
        try (SSLSocket s = clients.connect(SNI, "drain.qq.test")) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /bytes?n=" + 64 * MIB + "&seed=12 HTTP/1.1\r\nHost: drain.qq.test\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            TlsClients.readHead(in);
            MessageDigest md = DeterministicBytes.sha256();
            byte[] first = in.readNBytes((int) MIB);
            md.update(first);
            // The transfer is under way and paused by backpressure while this client does not read.
            proxy.sigterm();
            proxy.awaitErr(l -> l.contains("draining: 1 connections open"));
            assertThat(Command.run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                    "http://127.0.0.22:9901/readyz")).out()).isEqualTo("503");
            assertThatThrownBy(() -> new Socket().connect(SNI, 2000)).isInstanceOf(ConnectException.class);
            long rest = 0;
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
                rest += n;
            }
            assertThat(first.length + rest).isEqualTo(64 * MIB);
            assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(DeterministicBytes.sha256(12, 64 * MIB));
        }
        assertThat(proxy.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(proxy.exitCode()).isZero();
        assertThat(Files.readString(accessLog)).contains(" sni drain.qq.test:10443 200 allowed ");
    }

    @Test
    void sighupReloadsAndAnInvalidFileIsRejectedWithTheOneLineError() throws Exception {
        TlsClients clients = new TlsClients(pki.clientContext());
        assertThat(clients.get(SNI, "a.qq.test", "/hello")).contains("sni=a.qq.test");
        Files.writeString(config, config("[\"b.qq.test\"]"));
        Command.run(List.of("kill", "-HUP", Long.toString(proxy.process().pid())));
        proxy.awaitErr(l -> l.contains("reloaded " + config));
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThatThrownBy(() -> clients.get(SNI, "a.qq.test", "/hello")).hasMessageContaining("unrecognized_name"));
        assertThat(clients.get(SNI, "b.qq.test", "/hello")).contains("sni=b.qq.test");
        Files.writeString(config, "policy:\n  alow: []\n");
        proxy.awaitErr(l -> l.contains("reload rejected, the previous configuration keeps serving: " + config
                + ":2:3: policy.alow: unknown key (did you mean \"allow\"?)"));
        assertThat(clients.get(SNI, "b.qq.test", "/hello")).contains("sni=b.qq.test");
        String metrics = Command.run(List.of("curl", "-s", "--max-time", "10", "http://127.0.0.22:9901/metrics")).out();
        assertThat(metrics).contains("meshegress_config_reloads_total{result=\"failure\"} 1.0");
    }
}
