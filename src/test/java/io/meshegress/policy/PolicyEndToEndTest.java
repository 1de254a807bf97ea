package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.meshegress.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One policy through both listeners on the real wire: destination ports, deny, denyNetworks on every
 * resolved address and on IP literals (IPv4-mapped IPv6 too), client CIDRs, and connection limits.
 * Proxy on 127.0.0.5 (http 8080, sni 8443 -> 10443); a second, tightly limited one on 127.0.0.11.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyEndToEndTest {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.5", 8080);
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.5", 8443);
    static final InetSocketAddress LIMITED = new InetSocketAddress("127.0.0.11", 8080);
    static final byte[] HANDSHAKE_FAILURE = {21, 3, 3, 0, 2, 2, 40};

    TestDnsServer dns;
    TlsOrigin tls;
    HttpOrigin http;
    ServerSocket denied;
    final AtomicInteger deniedAccepts = new AtomicInteger();
    ProxyUnderTest proxy;
    ProxyUnderTest limited;
    TlsClients clients;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        clients = new TlsClients(pki.clientContext());
        dns = TestDnsServer.start("127.0.0.1")
                .answer("*.qq.test", "127.0.0.3")
                .answer("mixed.qq.test", "127.0.0.9,127.0.0.3")
                .answer("onlybad.qq.test", "127.0.0.9");
        tls = new TlsOrigin("127.0.0.3", 10443, pki);
        http = new HttpOrigin("127.0.0.3", 8081);
        // Something listens at the denied address, counting: policy must keep the proxy from ever connecting.
        denied = new ServerSocket(10443, 50, InetAddress.getByName("127.0.0.9"));
        Thread t = new Thread(() -> {
            while (!denied.isClosed()) {
                try (Socket s = denied.accept()) {
                    deniedAccepts.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.5:8080"
                  connectPorts: [443]
                sni:
                  - listen: "127.0.0.5:8443"
                    upstreamPort: 10443
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["any-port.qq.test"]
                  deny: ["bad.qq.test"]
                  denyNetworks: ["127.0.0.9/32", "10.0.0.0/8"]
                  clients: ["127.0.0.1/32", "127.0.0.8/32"]
                admin: null
                mesh:
                  destinations:
                    - hosts: ["*.qq.test"]
                      tls: [10443]
                """.formatted(dns.configAddress()));
        limited = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.11:8080"
                sni: null
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["*.qq.test"]
                  denyNetworks: []
                limits:
                  connections: 3
                  connectionsPerClient: 2
                admin: null
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, limited, tls, http, denied, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void destinationPortsOpenSniAndConnectButNotOtherPorts() throws Exception {
        assertThat(clients.get(SNI, "www.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:10443 sni=www.qq.test\n");
        // 10443 is not in connectPorts, but the destination lists it for *.qq.test.
        assertThat(exchange(HTTP, "CONNECT www.qq.test:10443 HTTP/1.1\r\nHost: www.qq.test:10443\r\n\r\n"))
                .startsWith("HTTP/1.1 200 Connection established");
        // Plain HTTP to 8081 is no port of that destination.
        assertThat(exchange(HTTP, "GET /hello HTTP/1.1\r\nHost: www.qq.test:8081\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 403").endsWith("mesh-egress: refused by mesh.destinations[0] \"*.qq.test\" "
                        + "(port 8081 is not one of its ports [10443])\n");
        // policy.allow opens every port for its host.
        assertThat(exchange(HTTP, "GET /hello HTTP/1.1\r\nHost: any-port.qq.test:8081\r\nConnection: close\r\n\r\n"))
                .endsWith("origin=127.0.0.3:8081 host=any-port.qq.test:8081 path=/hello\n");
    }

    @Test
    void denyWinsOverAllow() throws Exception {
        assertThat(exchange(HTTP, "CONNECT bad.qq.test:10443 HTTP/1.1\r\nHost: bad.qq.test:10443\r\n\r\n"))
                .startsWith("HTTP/1.1 403").endsWith("mesh-egress: refused by policy.deny[0] \"bad.qq.test\"\n");
    }

    @Test
    void aNameWithSeveralAddressesConnectsOnlyToAllowedOnes() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(clients.get(SNI, "mixed.qq.test", "/hello")).isEqualTo("origin=127.0.0.3:10443 sni=mixed.qq.test\n");
        }
        assertThat(exchange(SNI, clients.clientHello("onlybad.qq.test"))).isEqualTo(HANDSHAKE_FAILURE);
        AccessEntry e = proxy.awaitEntry(a -> "onlybad.qq.test".equals(a.host()));
        assertThat(e.reason()).isEqualTo("127.0.0.9 refused by policy.denyNetworks[0] \"127.0.0.9/32\"");
        assertThat(deniedAccepts.get()).isZero();
    }

    @Test
    void ipLiteralsAndIpv4MappedFormsAreCheckedAgainstDenyNetworks() throws Exception {
        for (String literal : List.of("127.0.0.9", "[::ffff:127.0.0.9]", "[::ffff:7f00:9]")) {
            String reply = exchange(HTTP, "CONNECT " + literal + ":443 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(reply).as(literal).startsWith("HTTP/1.1 403");
        }
        // An IP literal is matched by patterns only when the pattern is that literal: *.qq.test does not admit it.
        assertThat(exchange(HTTP, "GET http://127.0.0.3:8081/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 403").contains("matches no allow pattern");
        assertThat(deniedAccepts.get()).isZero();
    }

    @Test
    void clientsOutsidePolicyClientsAreTurnedAwayByEveryListener() throws Exception {
        String reply = exchangeFrom("127.0.0.12", HTTP,
                "GET /hello HTTP/1.1\r\nHost: www.qq.test:10443\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(reply).startsWith("HTTP/1.1 403").endsWith(
                "mesh-egress: refused by policy.clients (client 127.0.0.12 is in none of them)\n");
        byte[] alert = exchangeFrom("127.0.0.12", SNI, clients.clientHello("www.qq.test")).getBytes(StandardCharsets.ISO_8859_1);
        assertThat(alert).isEqualTo(HANDSHAKE_FAILURE);
        AccessEntry e = proxy.awaitEntry(a -> a.client().startsWith("127.0.0.12:") && a.kind().equals("sni"));
        assertThat(e.status()).isEqualTo(403);
        // 127.0.0.8 is in the list.
        assertThat(exchangeFrom("127.0.0.8", HTTP,
                "GET /hello HTTP/1.1\r\nHost: any-port.qq.test:8081\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
                .endsWith("path=/hello\n");
    }

    @Test
    void connectionLimitsOverallAndPerClient() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            held.add(open("127.0.0.1", LIMITED));
            held.add(open("127.0.0.1", LIMITED));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> limited.server().openConnections() == 2);
            assertThat(exchangeFrom("127.0.0.1", LIMITED, get("a.qq.test:8081")))
                    .startsWith("HTTP/1.1 503").endsWith("mesh-egress: refused by limits.connectionsPerClient "
                            + "(2 connections from 127.0.0.1 are open)\n");
            held.add(open("127.0.0.13", LIMITED));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> limited.server().openConnections() == 3);
            assertThat(exchangeFrom("127.0.0.14", LIMITED, get("a.qq.test:8081")))
                    .startsWith("HTTP/1.1 503").endsWith("mesh-egress: refused by limits.connections (3 connections are open)\n");
            // A held connection still works, and closing one frees a place.
            held.remove(0).close();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> limited.server().openConnections() == 2);
            assertThat(exchangeFrom("127.0.0.14", LIMITED, get("a.qq.test:8081")))
                    .endsWith("origin=127.0.0.3:8081 host=a.qq.test:8081 path=/hello\n");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    static byte[] get(String host) {
        return ("GET /hello HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    static Socket open(String from, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(to, 5000);
        return s;
    }

    static String exchange(InetSocketAddress to, String request) throws IOException {
        return exchangeFrom("127.0.0.1", to, request.getBytes(StandardCharsets.US_ASCII));
    }

    static byte[] exchange(InetSocketAddress to, byte[] bytes) throws IOException {
        return exchangeFrom("127.0.0.1", to, bytes).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Sends from a chosen loopback address and reads until the proxy closes (or 3 s of silence, for a tunnel). */
    static String exchangeFrom(String from, InetSocketAddress to, byte[] bytes) throws IOException {
        try (Socket s = open(from, to)) {
            s.setSoTimeout(3000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                }
            } catch (java.net.SocketTimeoutException e) {
                // a tunnel that stays open: what arrived so far is the answer
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
