package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar, started as its own process, with real clients: curl, openssl s_client and the JDK.
 * Origins and DNS as in the in-process tests: *.qq.test on 127.0.0.3, the proxy on 127.0.0.2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SniEndToEndIT {
    static final long MIB = 1024 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    Path dir;
    TestPki pki;
    TestDnsServer dns;
    TlsOrigin origin10443;
    TlsOrigin origin9443;
    Path config;
    JarProcess proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        pki = TestPki.create(dir);
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3");
        origin10443 = new TlsOrigin("127.0.0.3", 10443, pki);
        origin9443 = new TlsOrigin("127.0.0.3", 9443, pki);
        config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                http: null
                sni:
                  - listen: "127.0.0.2:8443"
                    upstreamPort: 10443
                  - listen: "127.0.0.2:9443"
                resolver:
                  servers: ["%s"]
                policy:
                  denyNetworks: ["10.0.0.0/8"]
                admin:
                  listen: "127.0.0.2:9901"
                mesh:
                  destinations:
                    - hosts: ["*.qq.test"]
                      tls: [10443, 9443]
                """.formatted(dns.configAddress()));
        proxy = JarProcess.start("run", "-c", config.toString());
        proxy.awaitErr(l -> l.contains("listening: sni 127.0.0.2:8443"));
        proxy.awaitErr(l -> l.contains("listening: sni 127.0.0.2:9443"));
        proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.2:9901"));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, origin10443, origin9443, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void curlThroughTheFixedPortListener() throws Exception {
        Command c = Command.run(List.of("curl", "-sS", "--fail", "--max-time", "20", "--cacert", pki.caPem().toString(),
                "--connect-to", "www.qq.test:443:127.0.0.2:8443", "https://www.qq.test/hello"));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:10443 sni=www.qq.test\n");
        String line = proxy.awaitOut(l -> l.contains("\"host\":\"www.qq.test\""));
        JsonNode entry = JSON.readTree(line);
        assertThat(entry.get("kind").asText()).isEqualTo("sni");
        assertThat(entry.get("listener").asText()).isEqualTo("sni 127.0.0.2:8443");
        assertThat(entry.get("port").asInt()).isEqualTo(10443);
        assertThat(entry.get("resolved").asText()).isEqualTo("127.0.0.3");
        assertThat(entry.get("decision").asText()).isEqualTo("allowed");
        assertThat(entry.get("reason").asText()).isEqualTo("mesh.destinations[0] \"*.qq.test\"");
        assertThat(entry.get("status").asInt()).isEqualTo(200);
        assertThat(entry.get("bytesUp").asLong()).isPositive();
        assertThat(entry.get("bytesDown").asLong()).isPositive();
        assertThat(entry.has("time")).isTrue();
        assertThat(entry.has("client")).isTrue();
        assertThat(entry.has("durationMs")).isTrue();
    }

    @Test
    void curlThroughTheSamePortListenerReachesTheNonStandardPort() throws Exception {
        Command c = Command.run(List.of("curl", "-sS", "--fail", "--max-time", "20", "--cacert", pki.caPem().toString(),
                "--connect-to", "api.qq.test:9443:127.0.0.2:9443", "https://api.qq.test:9443/hello"));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).isEqualTo("origin=127.0.0.3:9443 sni=api.qq.test\n");
    }

    @Test
    void curlDownloadsSixtyFourMebibytesIntact() throws Exception {
        Path file = dir.resolve("download.bin");
        Command c = Command.run(List.of("curl", "-sS", "--fail", "--max-time", "60", "--cacert", pki.caPem().toString(),
                "--connect-to", "bulk.qq.test:443:127.0.0.2:8443", "-o", file.toString(),
                "https://bulk.qq.test/bytes?n=" + 64 * MIB + "&seed=11"));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(Files.size(file)).isEqualTo(64 * MIB);
        assertThat(DeterministicBytes.sha256(file)).isEqualTo(DeterministicBytes.sha256(11, 64 * MIB));
        Files.delete(file);
    }

    @Test
    void opensslVerifiesTheOriginCertificateThroughTheProxy() throws Exception {
        Command c = Command.run(List.of("openssl", "s_client", "-connect", "127.0.0.2:8443", "-servername", "ssl.qq.test",
                        "-CAfile", pki.caPem().toString(), "-verify_return_error", "-verify_hostname", "ssl.qq.test",
                        "-ign_eof"),
                "GET /hello HTTP/1.1\r\nHost: ssl.qq.test\r\nConnection: close\r\n\r\n");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("Verify return code: 0 (ok)", "origin=127.0.0.3:10443 sni=ssl.qq.test");
    }

    @Test
    void opensslWithoutServerNameGetsTheUnrecognizedNameAlert() throws Exception {
        Command c = Command.run(List.of("openssl", "s_client", "-connect", "127.0.0.2:8443", "-noservername",
                "-CAfile", pki.caPem().toString()), "");
        assertThat(c.exitCode()).isNotZero();
        assertThat(c.err()).containsIgnoringCase("unrecognized name");
    }

    @Test
    void opensslToADisallowedNameGetsTheUnrecognizedNameAlert() throws Exception {
        Command c = Command.run(List.of("openssl", "s_client", "-connect", "127.0.0.2:8443", "-servername",
                "www.example.test", "-CAfile", pki.caPem().toString()), "");
        assertThat(c.exitCode()).isNotZero();
        assertThat(c.err()).containsIgnoringCase("unrecognized name");
        String line = proxy.awaitOut(l -> l.contains("\"host\":\"www.example.test\""));
        assertThat(JSON.readTree(line).get("reason").asText())
                .isEqualTo("refused by policy.allow (www.example.test matches no allow pattern or mesh destination)");
    }

    @Test
    void jdkClientThroughBothListeners() throws Exception {
        TlsClients clients = new TlsClients(pki.clientContext());
        assertThat(clients.get(new InetSocketAddress("127.0.0.2", 8443), "jdk.qq.test", "/hello"))
                .isEqualTo("origin=127.0.0.3:10443 sni=jdk.qq.test\n");
        assertThat(clients.get(new InetSocketAddress("127.0.0.2", 9443), "jdk.qq.test", "/hello"))
                .isEqualTo("origin=127.0.0.3:9443 sni=jdk.qq.test\n");
        String up = clients.upload(new InetSocketAddress("127.0.0.2", 9443), "jdk.qq.test", 3, 8 * MIB);
        assertThat(up).isEqualTo(DeterministicBytes.sha256(3, 8 * MIB) + " " + 8 * MIB);
    }

    @Test
    void adminAnswersHealthz() throws Exception {
        Command c = Command.run(List.of("curl", "-sS", "--fail", "--max-time", "10", "http://127.0.0.2:9901/healthz"));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).isEqualTo("ok\n");
    }

    @Test
    void aSecondProcessOnTheSameAddressExitsWithOneAndSaysWhy() throws Exception {
        JarProcess second = JarProcess.runToEnd("run", "-c", config.toString());
        assertThat(second.exitCode()).isEqualTo(1);
        assertThat(second.err()).contains("mesh-egress: 127.0.0.2:8443 is already in use");
    }

    @Test
    void checkAndVersionFromTheJar() throws Exception {
        JarProcess version = JarProcess.runToEnd("--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.out().get(0)).matches("mesh-egress \\d+\\.\\d+\\.\\d+.*");
        JarProcess check = JarProcess.runToEnd("check", "-c", config.toString(), "a.qq.test:9443");
        assertThat(check.exitCode()).isZero();
        assertThat(check.out()).contains("a.qq.test:9443 via sni 127.0.0.2:9443: allowed by mesh.destinations[0] \"*.qq.test\"");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "timeouts:\n  conect: 5s\n");
        JarProcess invalid = JarProcess.runToEnd("run", "-c", bad.toString());
        assertThat(invalid.exitCode()).isEqualTo(2);
        assertThat(invalid.err()).containsExactly(bad + ":2:3: timeouts.conect: unknown key (did you mean \"connect\"?)");
    }
}
