package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.DeterministicBytes;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsOrigin;
import java.io.InputStream;
import java.io.OutputStream;
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
 * The HTTP listener of the built jar, run with a 48 MiB heap and 32 MiB of direct memory: 1 GiB through it
 * each way can only succeed if bodies stream with bounded memory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpEndToEndIT {
    static final long GIB = 1024L * 1024 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    Path dir;
    TestPki pki;
    TestDnsServer dns;
    HttpOrigin http;
    TlsOrigin tls;
    JarProcess proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        pki = TestPki.create(dir);
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3");
        http = new HttpOrigin("127.0.0.3", 8081);
        tls = new TlsOrigin("127.0.0.3", 10443, pki);
        Path config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                http:
                  listen: "127.0.0.2:8080"
                sni: null
                resolver:
                  servers: ["%s"]
                policy:
                  denyNetworks: ["10.0.0.0/8"]
                admin: null
                mesh:
                  destinations:
                    - hosts: ["*.qq.test"]
                      http: [8081]
                      tls: [10443]
                """.formatted(dns.configAddress()));
        proxy = JarProcess.start(List.of("-Xmx48m", "-XX:MaxDirectMemorySize=32m"), "run", "-c", config.toString());
        proxy.awaitErr(l -> l.contains("listening: http 127.0.0.2:8080"));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, http, tls, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void oneGibibyteDownloadAbsoluteForm() throws Exception {
        Path out = dir.resolve("down.bin");
        curl("-x", "http://127.0.0.2:8080", "-o", out.toString(), "http://big.qq.test:8081/bytes?n=" + GIB + "&seed=5");
        assertThat(DeterministicBytes.sha256(out)).isEqualTo(DeterministicBytes.sha256(5, GIB));
        Files.delete(out);
        JsonNode entry = JSON.readTree(proxy.awaitOut(l -> l.contains("\"host\":\"big.qq.test\"")));
        assertThat(entry.get("kind").asText()).isEqualTo("http");
        assertThat(entry.get("status").asInt()).isEqualTo(200);
        assertThat(entry.get("bytesDown").asLong()).isEqualTo(GIB);
        assertThat(entry.get("reason").asText()).isEqualTo("mesh.destinations[0] \"*.qq.test\"");
    }

    @Test
    void oneGibibyteUploadOriginFormChunked() throws Exception {
        Path in = dir.resolve("up.bin");
        try (OutputStream o = Files.newOutputStream(in)) {
            DeterministicBytes bytes = new DeterministicBytes(6, GIB);
            byte[] block = new byte[DeterministicBytes.BLOCK];
            int n;
            while ((n = bytes.next(block)) > 0) {
                o.write(block, 0, n);
            }
        }
        Command c = curl("-H", "Host: up.qq.test:8081", "-H", "Transfer-Encoding: chunked", "-X", "POST", "-T", in.toString(),
                "http://127.0.0.2:8080/sha256");
        assertThat(c.out()).isEqualTo(DeterministicBytes.sha256(6, GIB) + " " + GIB + "\n");
        Files.delete(in);
    }

    @Test
    void oneGibibyteThroughConnect() throws Exception {
        Path out = dir.resolve("tunnel.bin");
        curl("-x", "http://127.0.0.2:8080", "--cacert", pki.caPem().toString(), "-o", out.toString(),
                "https://tunnel.qq.test:10443/bytes?n=" + GIB + "&seed=8");
        assertThat(DeterministicBytes.sha256(out)).isEqualTo(DeterministicBytes.sha256(8, GIB));
        Files.delete(out);
        JsonNode entry = JSON.readTree(proxy.awaitOut(l -> l.contains("\"host\":\"tunnel.qq.test\"")));
        assertThat(entry.get("kind").asText()).isEqualTo("connect");
        assertThat(entry.get("bytesDown").asLong()).isGreaterThan(GIB);
    }

    static Command curl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "120", "--noproxy", ""));
        cmd.addAll(List.of(args));
        Command c = Command.run(cmd);
        assertThat(c.exitCode()).as(c.err()).isZero();
        return c;
    }

}
