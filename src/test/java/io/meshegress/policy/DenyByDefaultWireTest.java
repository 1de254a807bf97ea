package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.Sockets;
import io.meshegress.testing.TlsClients;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Deny by default, on the wire: a file with no allow-list and no mesh.destinations refuses every host on every
 * listener kind (and {@code allow: ["*"]} is the one line that opens them again); clients outside policy.clients
 * are refused before any name is looked at, whether the file narrows clients or leaves the private-range default
 * and a PROXY header names a public address. Loopback only, on ports the system hands out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DenyByDefaultWireTest {
    static final String CLIENT = "127.0.25.1";
    static final String ORIGIN = "127.0.25.3";
    static final String NOTHING = "refused by policy.allow (empty, and no mesh.destinations: no host)";

    HttpOrigin origin;
    int originPort;

    @BeforeAll
    void start() throws Exception {
        originPort = freePort(ORIGIN);
        origin = new HttpOrigin(ORIGIN, originPort);
    }

    @AfterAll
    void stop() {
        if (origin != null) {
            origin.close();
        }
    }

    static int freePort(String address) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
            return s.getLocalPort();
        }
    }

    /** A file with an http and an sni listener on {@code address}, the origin named a.qq.test, and {@code policy}. */
    String file(String address, int http, int sni, String policy) {
        return """
                http:
                  listen: "%s:%d"
                  connectPorts: [%d]
                sni:
                  - listen: "%s:%d"
                    upstreamPort: %d
                admin: null
                resolver:
                  hosts: {a.qq.test: %s}
                policy:
                  denyNetworks: []
                %s
                """.formatted(address, http, originPort, address, sni, originPort, ORIGIN, policy);
    }

    static String fromClient(InetSocketAddress to, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.connect(to, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static String get(int port) {
        return "GET /hello HTTP/1.1\r\nHost: a.qq.test:" + port + "\r\nConnection: close\r\n\r\n";
    }

    static String connect(int port) {
        return "CONNECT a.qq.test:" + port + " HTTP/1.1\r\nHost: a.qq.test:" + port + "\r\n\r\n";
    }

    @Test
    void noAllowListAndNoDestinationsRefuseEveryHostOnEveryListener() throws Exception {
        String address = "127.0.25.10";
        int http = freePort(address);
        int sni = freePort(address);
        int before = origin.connections();
        for (String policy : new String[] {"", "  allow: []"}) {
            try (ProxyUnderTest proxy = new ProxyUnderTest(file(address, http, sni, policy))) {
                InetSocketAddress httpListener = new InetSocketAddress(address, http);
                assertThat(fromClient(httpListener, get(originPort))).as(policy)
                        .startsWith("HTTP/1.1 403").endsWith("mesh-egress: " + NOTHING + "\n");
                assertThat(fromClient(httpListener, connect(originPort))).as(policy)
                        .startsWith("HTTP/1.1 403").endsWith("mesh-egress: " + NOTHING + "\n");
                byte[] hello = new TlsClients(SSLContext.getDefault()).clientHello("a.qq.test");
                // RFC 8446 6.2: a fatal alert record (21), unrecognized_name (112) for a name the proxy refuses.
                assertThat(Sockets.exchange(new InetSocketAddress(address, sni), hello))
                        .containsExactly(21, 3, 3, 0, 2, 2, 112);
                AccessEntry e = proxy.awaitEntry(x -> "sni".equals(x.kind()));
                assertThat(e.decision()).isEqualTo("refused");
                assertThat(e.reason()).isEqualTo(NOTHING);
            }
        }
        assertThat(origin.connections()).isEqualTo(before);
    }

    @Test
    void starIsTheOneLineThatAllowsEveryHostAgain() throws Exception {
        String address = "127.0.25.11";
        int http = freePort(address);
        try (ProxyUnderTest proxy = new ProxyUnderTest(file(address, http, freePort(address), "  allow: [\"*\"]"))) {
            assertThat(fromClient(new InetSocketAddress(address, http), get(originPort))).startsWith("HTTP/1.1 200")
                    .endsWith("origin=" + ORIGIN + ":" + originPort + " host=a.qq.test:" + originPort + " path=/hello\n");
            assertThat(proxy.awaitEntry(x -> "http".equals(x.kind())).reason()).isEqualTo("policy.allow[0] \"*\"");
        }
    }

    @Test
    void aClientOutsideTheClientsTheFileWritesIsRefusedOnBothListenerKinds() throws Exception {
        String address = "127.0.25.12";
        int http = freePort(address);
        int sni = freePort(address);
        int before = origin.connections();
        String refusal = "refused by policy.clients (client " + CLIENT + " is in none of them)";
        try (ProxyUnderTest proxy = new ProxyUnderTest(file(address, http, sni,
                "  allow: [a.qq.test]\n  clients: [\"10.0.0.0/8\", \"127.0.26.0/24\"]"))) {
            assertThat(fromClient(new InetSocketAddress(address, http), get(originPort)))
                    .startsWith("HTTP/1.1 403").endsWith("mesh-egress: " + refusal + "\n");
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(CLIENT, 0));
                s.connect(new InetSocketAddress(address, sni), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write(new TlsClients(SSLContext.getDefault()).clientHello("a.qq.test"));
                byte[] answer = s.getInputStream().readAllBytes();
                assertThat(answer).hasSize(7).startsWith(21, 3, 3, 0, 2, 2); // a fatal alert record, then the close
            }
            AccessEntry e = proxy.awaitEntry(x -> "sni".equals(x.kind()) || x.listener().startsWith("sni"));
            assertThat(e.reason()).isEqualTo(refusal);
        }
        assertThat(origin.connections()).isEqualTo(before);
    }

    @Test
    void withoutClientsALoopbackClientIsServed() throws Exception {
        String address = "127.0.25.13";
        int http = freePort(address);
        try (ProxyUnderTest proxy = new ProxyUnderTest(file(address, http, freePort(address),
                "  allow: [a.qq.test]"))) {
            assertThat(fromClient(new InetSocketAddress(address, http), get(originPort))).startsWith("HTTP/1.1 200");
        }
    }

    /**
     * A PROXY protocol header names the client every rule sees, so it can name a public address over loopback:
     * without policy.clients, 192.0.2.9 (TEST-NET-1, RFC 5737: no private range) is refused and 10.1.2.3 (RFC 1918)
     * is served.
     */
    @Test
    void withoutClientsAPublicClientNamedByAProxyHeaderIsRefused() throws Exception {
        String address = "127.0.25.14";
        int http = freePort(address);
        String yaml = """
                http:
                  listen: "%s:%d"
                  proxyProtocol: required
                  trustedSources: ["127.0.25.0/24"]
                admin: null
                resolver:
                  hosts: {a.qq.test: %s}
                policy:
                  allow: [a.qq.test]
                  denyNetworks: []
                """.formatted(address, http, ORIGIN);
        try (ProxyUnderTest proxy = new ProxyUnderTest(yaml)) {
            InetSocketAddress listener = new InetSocketAddress(address, http);
            assertThat(fromClient(listener, header("192.0.2.9", address, http) + get(originPort)))
                    .startsWith("HTTP/1.1 403")
                    .endsWith("mesh-egress: refused by policy.clients (client 192.0.2.9 is in none of them)\n");
            assertThat(fromClient(listener, header("10.1.2.3", address, http) + get(originPort)))
                    .startsWith("HTTP/1.1 200");
            assertThat(proxy.awaitEntry(x -> x.client().startsWith("192.0.2.9:")).decision()).isEqualTo("refused");
        }
    }

    /** A PROXY protocol v1 header (haproxy's proxy-protocol.txt, section 2.1). */
    static String header(String source, String destination, int destinationPort) {
        return "PROXY TCP4 " + source + " " + destination + " 40000 " + destinationPort + "\r\n";
    }
}
