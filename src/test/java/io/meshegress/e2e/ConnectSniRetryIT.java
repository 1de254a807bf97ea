package io.meshegress.e2e;

import static io.meshegress.testing.HelloForms.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.testing.Command;
import io.meshegress.testing.HelloRetryClient;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.NameRecordingTlsOrigin;
import io.meshegress.testing.TestPki;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar with {@code connectSniCheck: true}, a CONNECT to the allowed a.qq.test, a first ClientHello for
 * a.qq.test that the real server answers with a HelloRetryRequest, and a second ClientHello for b.qq.test,
 * which the policy refuses: the tunnel must end before the server reads it. Two real servers that serve any
 * name and take the second hello's server_name: the JDK's engine behind Netty's SslHandler, and OpenSSL
 * (Python's ssl module, its SNI callback printing each name it is called with).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectSniRetryIT {
    static final ObjectMapper JSON = new ObjectMapper();

    NameRecordingTlsOrigin jdk;
    Process openssl;
    final List<String> opensslNames = new CopyOnWriteArrayList<>();
    JarProcess proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        jdk = new NameRecordingTlsOrigin("127.0.0.71", 10443, TestPki.create(dir));
        Command cert = Command.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=qq.test",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString()));
        assertThat(cert.exitCode()).as(cert.err()).isZero();
        Path server = dir.resolve("front.py");
        Files.writeString(server, """
                import socket, ssl, sys, threading
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(sys.argv[1], sys.argv[2])
                def named(sock, name, context):
                    print("sni", name, flush=True)
                ctx.sni_callback = named
                listener = socket.create_server(("127.0.0.72", 10443))
                print("listening", flush=True)
                def serve(conn):
                    conn.settimeout(10)
                    try:
                        ctx.wrap_socket(conn, server_side=True).close()
                    except Exception:
                        conn.close()
                while True:
                    conn, _ = listener.accept()
                    threading.Thread(target=serve, args=(conn,), daemon=True).start()
                """);
        openssl = new ProcessBuilder("python3", server.toString(), dir.resolve("cert.pem").toString(),
                dir.resolve("key.pem").toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(openssl.getInputStream(), StandardCharsets.UTF_8));
        assertThat(lines.readLine()).isEqualTo("listening");
        Thread reader = new Thread(() -> lines.lines().forEach(opensslNames::add));
        reader.setDaemon(true);
        reader.start();
        Path config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                http:
                  listen: "127.0.0.70:8080"
                  connectPorts: [10443]
                  connectSniCheck: true
                sni: null
                admin: null
                resolver:
                  hosts: {a.qq.test: 127.0.0.71, b.qq.test: 127.0.0.71, a.openssl.test: 127.0.0.72, b.openssl.test: 127.0.0.72}
                policy:
                  allow: ["a.qq.test", "a.openssl.test"]
                  denyNetworks: []
                mesh:
                  destinations: []
                """);
        proxy = JarProcess.start("run", "-c", config.toString());
        proxy.awaitErr(l -> l.contains("listening: http 127.0.0.70:8080"));
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (openssl != null) {
            openssl.destroy();
        }
        if (jdk != null) {
            jdk.close();
        }
    }

    /** CONNECT allowed:10443, a first hello for it, the server's HelloRetryRequest, a second hello for refused. */
    private JsonNode secondHelloFor(String allowed, String refused) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.70", 8080), 5000);
            s.setSoTimeout(15_000);
            assertThat(HelloRetryClient.connect(s.getOutputStream(), s.getInputStream(), allowed + ":10443"))
                    .startsWith("HTTP/1.1 200");
            HelloRetryClient client = new HelloRetryClient();
            s.getOutputStream().write(client.firstHello(allowed));
            HelloRetryClient.Record hrr = HelloRetryClient.readSkippingChangeCipherSpec(s.getInputStream());
            assertThat(hrr).isNotNull();
            assertThat(hrr.helloRetryRequest()).as("the real server asks for another ClientHello").isTrue();
            s.getOutputStream().write(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, client.secondHello(refused, hrr.cookie(), false)));
            HelloRetryClient.Record next = HelloRetryClient.readSkippingChangeCipherSpec(s.getInputStream());
            assertThat(next).as("the proxy's alert").isNotNull();
            assertThat(next.serverHello()).as("the server went on with the second ClientHello").isFalse();
            assertThat(next.alert()).isEqualTo(49); // access_denied
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            String port = ":" + s.getLocalPort() + "\"";
            return JSON.readTree(proxy.awaitOut(l -> l.contains("\"kind\":\"connect\"") && l.contains(port)
                    && l.contains("\"decision\":\"refused\"")));
        }
    }

    @Test
    void theJdkServersSecondClientHelloForARefusedHostEndsTheTunnel() throws Exception {
        JsonNode entry = secondHelloFor("a.qq.test", "b.qq.test");
        assertThat(entry.get("reason").asText()).isEqualTo("sni_mismatch: the tunnel's second ClientHello (after "
                + "the server's HelloRetryRequest) names b.qq.test, the CONNECT named a.qq.test (http.connectSniCheck)");
        assertThat(entry.get("alert").asText()).isEqualTo("access_denied");
        assertThat(jdk.names()).containsExactly("a.qq.test");
    }

    @Test
    void opensslsSecondClientHelloForARefusedHostEndsTheTunnel() throws Exception {
        JsonNode entry = secondHelloFor("a.openssl.test", "b.openssl.test");
        assertThat(entry.get("reason").asText()).startsWith("sni_mismatch: the tunnel's second ClientHello (after "
                + "the server's HelloRetryRequest) names b.openssl.test");
        // The server read the first hello's name; its connection ends without a second.
        await().atMost(Duration.ofSeconds(10)).until(() -> opensslNames.contains("sni a.openssl.test"));
        assertThat(opensslNames).doesNotContain("sni b.openssl.test");
    }
}
