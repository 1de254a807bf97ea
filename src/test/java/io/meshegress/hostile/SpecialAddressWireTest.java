package io.meshegress.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.FaultyOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.Sockets;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TlsClients;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * SSRF through IPv6 special addresses, on the default denyNetworks with resolver.ipv6 on: the unspecified
 * address {@code ::} (which the kernel connects to this host's own loopback), and IPv4 carried inside IPv6
 * (NAT64, IPv4-compatible), as IP literals in every request form and as DNS answers, through both listeners.
 * The "loopback services" the attacker aims at listen on [::1]:9443 and 127.0.0.1:9443; they must never see a
 * connection. Also: every resolution that goes to DNS comes from its own source port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpecialAddressWireTest {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.65", 8080);
    static final InetSocketAddress SNI = new InetSocketAddress("127.0.0.65", 8443);
    static final byte[] HANDSHAKE_FAILURE = {21, 3, 3, 0, 2, 2, 40};

    TestDnsServer dns;
    FaultyOrigin loopback6;
    FaultyOrigin loopback4;
    ProxyUnderTest proxy;

    @BeforeAll
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1")
                .answerAaaa("zero.v6.test", "::")
                .answerAaaa("nat64.v6.test", "64:ff9b::7f00:1")
                .answerAaaa("compat.v6.test", "::7f00:1")
                .answer("*.ports.test", "127.0.0.70");
        loopback6 = new FaultyOrigin("::1", 9443, FaultyOrigin.Behaviour.ANSWER);
        loopback4 = new FaultyOrigin("127.0.0.1", 9443, FaultyOrigin.Behaviour.ANSWER);
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.65:8080"
                  connectPorts: [9443]
                sni:
                  - listen: "127.0.0.65:8443"
                    upstreamPort: 9443
                admin: null
                resolver:
                  servers: ["%s"]
                  ipv6: true
                policy:
                  # Names and the literals below pass the name rule, so that the address rule is what refuses.
                  allow: ["*", "::", "::7f00:1", "64:ff9b::a9fe:a9fe"]
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, loopback6, loopback4, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static String exchange(InetSocketAddress to, String request) throws IOException {
        return Sockets.exchange(to, request);
    }

    @Test
    void theUnspecifiedAddressIsRefusedInEveryRequestForm() throws Exception {
        for (String request : List.of(
                "CONNECT [::]:9443 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET http://[::]:9443/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: [::]:9443\r\nConnection: close\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: [0:0:0:0:0:0:0:0]:9443\r\nConnection: close\r\n\r\n",
                "CONNECT zero.v6.test:9443 HTTP/1.1\r\nHost: x\r\n\r\n")) {
            assertThat(exchange(HTTP, request)).as(request).startsWith("HTTP/1.1 403").contains("\"::/128\"");
        }
        assertThat(loopback6.connections() + loopback4.connections()).isZero();
    }

    @Test
    void ipv4CarriedInIpv6IsJudgedAsThatIpv4() throws Exception {
        assertThat(exchange(HTTP, "CONNECT nat64.v6.test:9443 HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 403").contains("\"127.0.0.0/8\" (64:ff9b::7f00:1 is NAT64 for 127.0.0.1)");
        assertThat(exchange(HTTP, "CONNECT [::7f00:1]:9443 HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 403").contains("IPv4-compatible for 127.0.0.1");
        assertThat(exchange(HTTP, "CONNECT [64:ff9b::a9fe:a9fe]:9443 HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 403").contains("\"169.254.0.0/16\"");
        assertThat(loopback6.connections() + loopback4.connections()).isZero();
    }

    @Test
    void theSniListenerRefusesTheSameAnswers() throws Exception {
        TlsClients clients = new TlsClients(SSLContext.getDefault());
        for (String name : List.of("zero.v6.test", "nat64.v6.test", "compat.v6.test")) {
            assertThat(Sockets.exchange(SNI, clients.clientHello(name))).as(name).isEqualTo(HANDSHAKE_FAILURE);
            assertThat(proxy.awaitEntry(e -> name.equals(e.host())).reason()).contains("policy.denyNetworks");
        }
        assertThat(loopback6.connections() + loopback4.connections()).isZero();
    }

    @Test
    void everyResolutionAsksFromItsOwnSourcePort() throws Exception {
        int before = dns.senderPorts().size();
        for (int i = 0; i < 8; i++) {
            assertThat(exchange(HTTP, "CONNECT p" + i + ".ports.test:9443 HTTP/1.1\r\nHost: x\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("127.0.0.0/8");
        }
        List<Integer> ports = dns.senderPorts().subList(before, dns.senderPorts().size());
        assertThat(ports).hasSizeGreaterThanOrEqualTo(8);
        // Eight resolutions (A and AAAA each): before, every query came from one port for the process's life.
        assertThat(new HashSet<>(ports)).hasSizeGreaterThanOrEqualTo(8);
    }
}
