package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.FaultyOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TlsClients;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.time.Duration;
import org.awaitility.Awaitility;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code check} and the proxy give the same decision, row by row: each row goes once through {@code check}
 * (its printed verdict) and once through the real listener over the wire (the access log's decision and
 * reason). Rows cover deny against port rules, destinations with their own ports, IP literals, names known
 * from resolver.hosts, the proxy itself, case and trailing dots, punycode, clients outside policy.clients, and
 * clients in roles (their own lists and ports, and report mode).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RouteAgreementTest {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.74", 8080);
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.74", 8443);
    static final String CONFIG = """
            http:
              listen: "127.0.0.74:8080"
              connectPorts: [8443]
            sni:
              - listen: "127.0.0.74:8443"
                upstreamPort: 10443
            admin:
              listen: "127.0.0.74:9901"
            resolver:
              hosts: {a.ok.test: 127.0.0.75, bad.ok.test: 127.0.0.75, x.evil.test: 127.0.0.75, any.test: 127.0.0.75,
                      nothing.test: 127.0.0.75, m.mesh.test: 127.0.0.75, net.ok.test: 10.1.2.3,
                      self.ok.test: 127.0.0.74, xn--bcher-kva.ok.test: 127.0.0.75}
            policy:
              allow: ["*.ok.test", any.test, 10.1.2.3, 127.0.0.9, 127.0.0.74]
              deny: ["*.evil.test", bad.ok.test]
              denyNetworks: [127.0.0.9/32, 10.0.0.0/8]
              clients: [127.0.0.1/32, 127.0.0.76/32, 127.0.0.78/32]
              roles:
                - name: payments
                  clients: ["127.0.0.76"]
                  allow: [a.ok.test]
                  connectPorts: [8443]
                - name: trial
                  clients: ["127.0.0.78/32"]
                  allow: [any.test]
                  connectPorts: [8443]
                  mode: report
            mesh:
              destinations:
                - hosts: ["*.mesh.test"]
                  http: [8081]
                  tls: [10443]
            """;

    Path file;
    ProxyUnderTest proxy;
    final List<FaultyOrigin> origins = new ArrayList<>();
    TlsClients tls;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
        for (int port : new int[] {8081, 8443, 10443}) {
            origins.add(new FaultyOrigin("127.0.0.75", port, FaultyOrigin.Behaviour.ANSWER));
        }
        proxy = new ProxyUnderTest(CONFIG);
        tls = new TlsClients(SSLContext.getDefault());
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        for (FaultyOrigin o : origins) {
            o.close();
        }
    }

    static Stream<Arguments> rows() {
        String in = "127.0.0.1";
        String other = "127.0.0.76";
        String out = "127.0.0.77";
        String trial = "127.0.0.78";
        return Stream.of(
                // CONNECT: the name first (deny, then allow with a destination's ports), then http.connectPorts
                Arguments.of("connect", in, "a.ok.test", 8443),
                Arguments.of("connect", in, "A.OK.TEST.", 8443),
                Arguments.of("connect", in, "a.ok.test", 22),
                Arguments.of("connect", in, "x.evil.test", 8443),
                Arguments.of("connect", in, "x.evil.test", 22),
                Arguments.of("connect", in, "bad.ok.test", 8443),
                Arguments.of("connect", in, "bad.ok.test", 22),
                Arguments.of("connect", in, "nothing.test", 8443),
                Arguments.of("connect", in, "nothing.test", 22),
                Arguments.of("connect", in, "any.test", 8443),
                Arguments.of("connect", in, "m.mesh.test", 10443),
                Arguments.of("connect", in, "m.mesh.test", 8443),
                Arguments.of("connect", in, "m.mesh.test", 22),
                Arguments.of("connect", in, "127.0.0.75", 8443),
                Arguments.of("connect", in, "10.1.2.3", 8443),
                Arguments.of("connect", in, "127.0.0.9", 8443),
                Arguments.of("connect", in, "net.ok.test", 8443),
                Arguments.of("connect", in, "127.0.0.74", 8080),
                Arguments.of("connect", in, "127.0.0.74", 8443),
                Arguments.of("connect", in, "self.ok.test", 8443),
                Arguments.of("connect", in, "xn--bcher-kva.ok.test", 8443),
                Arguments.of("connect", in, "[::1]", 8443),
                Arguments.of("connect", other, "a.ok.test", 8443),
                Arguments.of("connect", out, "a.ok.test", 8443),
                Arguments.of("connect", out, "x.evil.test", 22),
                // roles: a named role's own list (mesh.destinations are the default role's), its narrower ports
                Arguments.of("connect", other, "any.test", 8443),
                Arguments.of("connect", other, "m.mesh.test", 10443),
                Arguments.of("connect", other, "a.ok.test", 8081),
                Arguments.of("connect", other, "x.evil.test", 8443),
                // report mode: name and port refusals pass and say so; deny, denyNetworks and the loop do not
                Arguments.of("connect", trial, "nothing.test", 8443),
                Arguments.of("connect", trial, "any.test", 8081),
                Arguments.of("connect", trial, "x.evil.test", 8443),
                Arguments.of("connect", trial, "10.1.2.3", 8443),
                Arguments.of("connect", trial, "self.ok.test", 8443),
                // plain HTTP: the name and its destination's ports; no port rule of its own
                Arguments.of("http", in, "a.ok.test", 8081),
                Arguments.of("http", in, "A.Ok.Test.", 8081),
                Arguments.of("http", in, "x.evil.test", 8081),
                Arguments.of("http", in, "bad.ok.test", 8081),
                Arguments.of("http", in, "nothing.test", 80),
                Arguments.of("http", in, "m.mesh.test", 8081),
                Arguments.of("http", in, "m.mesh.test", 8443),
                Arguments.of("http", in, "any.test", 8081),
                Arguments.of("http", in, "10.1.2.3", 8081),
                Arguments.of("http", in, "net.ok.test", 8081),
                Arguments.of("http", in, "self.ok.test", 8080),
                Arguments.of("http", in, "127.0.0.74", 9901),
                Arguments.of("http", out, "a.ok.test", 8081),
                Arguments.of("http", other, "m.mesh.test", 8081),
                Arguments.of("http", other, "a.ok.test", 8081),
                Arguments.of("http", trial, "m.mesh.test", 8081),
                Arguments.of("http", trial, "bad.ok.test", 8081),
                // SNI: the listener's upstream port, 10443
                Arguments.of("sni", in, "a.ok.test", 10443),
                Arguments.of("sni", in, "A.OK.TEST.", 10443),
                Arguments.of("sni", in, "x.evil.test", 10443),
                Arguments.of("sni", in, "bad.ok.test", 10443),
                Arguments.of("sni", in, "nothing.test", 10443),
                Arguments.of("sni", in, "m.mesh.test", 10443),
                Arguments.of("sni", in, "any.test", 10443),
                Arguments.of("sni", in, "net.ok.test", 10443),
                Arguments.of("sni", out, "a.ok.test", 10443),
                Arguments.of("sni", other, "a.ok.test", 10443),
                Arguments.of("sni", other, "any.test", 10443),
                Arguments.of("sni", trial, "nothing.test", 10443),
                Arguments.of("sni", trial, "net.ok.test", 10443));
    }

    @ParameterizedTest(name = "{0} from {1} to {2}:{3}")
    @MethodSource("rows")
    void checkAndTheProxyGiveTheSameDecision(String kind, String client, String host, int port) throws Exception {
        String target = host + ":" + port;
        CliRun check = CliRun.of("check", "-c", file.toString(), "--client", client, target);
        assertThat(check.status()).as(check.err()).isZero();
        String checkVerdict = verdictLine(check.out(), kind);

        int before = proxy.entries().size();
        int localPort = sendOverTheWire(kind, client, host, port);
        // Only lines written after this row's exchange: an earlier row's client may have had the same port.
        AccessEntry e = Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<AccessEntry> all = proxy.entries();
            return all.subList(Math.min(before, all.size()), all.size()).stream()
                    .filter(a -> a.client().equals(client + ":" + localPort)).findFirst().orElse(null);
        }, a -> a != null);
        String logged = ("allowed".equals(e.decision()) ? "allowed by " + e.reason() : e.reason())
                + (e.wouldRefuse() == null ? "" : " (would be " + e.wouldRefuse() + ")");
        assertThat(logged).as("check said: " + checkVerdict).isEqualTo(checkVerdict);
    }

    /** The verdict check printed for this kind of listener. */
    private static String verdictLine(String out, String kind) {
        String marker = switch (kind) {
            case "connect" -> " CONNECT: ";
            case "http" -> " plain HTTP: ";
            default -> " via sni 127.0.0.74:8443: ";
        };
        return out.lines().filter(l -> l.contains(marker)).findFirst()
                .map(l -> l.substring(l.indexOf(marker) + marker.length()))
                .orElseThrow(() -> new AssertionError("no" + marker + "line in:\n" + out));
    }

    /** One exchange from {@code client}; returns the client's port, which names its access-log line. */
    private int sendOverTheWire(String kind, String client, String host, int port) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(client, 0));
            s.connect("sni".equals(kind) ? SNI : HTTP, 5000);
            s.setSoTimeout(300);
            byte[] request = switch (kind) {
                case "connect" -> ("CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                case "http" -> ("GET http://" + host + ":" + port + "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                default -> tls.clientHello(host);
            };
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            drain(s.getInputStream());
            return s.getLocalPort();
        }
    }

    /** Reads what comes back until the proxy closes or a moment of quiet (an open tunnel). */
    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) > 0) {
                // the answer is not what this test compares: the access log is
            }
        } catch (SocketTimeoutException e) {
            // a tunnel stays open; closing ends it and writes its line
        } catch (IOException e) {
            // a reset after a refusal
        }
    }
}
