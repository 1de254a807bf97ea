package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An allow entry limited to ports, on the wire (what {@code learn} now writes): {@code {host: o.pl.test, ports:
 * [8081]}} lets plain HTTP reach o.pl.test:8081, refuses it on 8082 (whose origin never sees a connection), and
 * opens no CONNECT port: a CONNECT to 8081, outside http.connectPorts, is refused by the port rule, and one to
 * 8082, a CONNECT port, by the entry's ports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PortLimitedAllowWireTest {
    TestDnsServer dns;
    HttpOrigin allowed;
    HttpOrigin other;
    ProxyUnderTest proxy;

    @BeforeAll
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.25.1").answer("*.pl.test", "127.0.25.3");
        allowed = new HttpOrigin("127.0.25.3", 8081);
        other = new HttpOrigin("127.0.25.3", 8082);
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.25.5:8080"
                  connectPorts: [8082]
                sni: null
                admin: null
                resolver:
                  servers: ["%s"]
                policy:
                  allow: [{host: "o.pl.test", ports: [8081]}]
                  denyNetworks: ["10.0.0.0/8"]
                mesh:
                  destinations: []
                """.formatted(dns.configAddress()));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, allowed, other, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private String send(String request) throws IOException {
        InetSocketAddress address = proxy.server().listeners().get(0).address();
        try (Socket s = new Socket()) {
            s.connect(address, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return HttpProxyTest.readHead(s.getInputStream());
        }
    }

    private AccessEntry entry(String kind, int port) {
        return proxy.awaitEntry(e -> e.kind().equals(kind) && "o.pl.test".equals(e.host()) && e.port() == port);
    }

    @Test
    void plainHttpReachesTheListedPortOnly() throws Exception {
        assertThat(send("GET http://o.pl.test:8081/hello HTTP/1.1\r\nHost: o.pl.test:8081\r\n\r\n"))
                .startsWith("HTTP/1.1 200");
        assertThat(entry("http", 8081).reason()).isEqualTo("policy.allow[0] \"o.pl.test\" ports [8081]");

        assertThat(send("GET http://o.pl.test:8082/hello HTTP/1.1\r\nHost: o.pl.test:8082\r\n\r\n"))
                .startsWith("HTTP/1.1 403");
        assertThat(entry("http", 8082).reason()).isEqualTo("refused by policy.allow[0] \"o.pl.test\" ports [8081] "
                + "(port 8082 is not one of its ports [8081])");
        assertThat(other.connections()).isZero();
    }

    @Test
    void theEntrysPortsOpenNoConnectPort() throws Exception {
        assertThat(send("CONNECT o.pl.test:8081 HTTP/1.1\r\nHost: o.pl.test:8081\r\n\r\n"))
                .startsWith("HTTP/1.1 403");
        assertThat(entry("connect", 8081).reason()).isEqualTo("refused by http.connectPorts (port 8081 is not in [8082])");
        assertThat(send("CONNECT o.pl.test:8082 HTTP/1.1\r\nHost: o.pl.test:8082\r\n\r\n"))
                .startsWith("HTTP/1.1 403");
        assertThat(entry("connect", 8082).reason()).contains("port 8082 is not one of its ports [8081]");
        assertThat(other.connections()).isZero();
    }
}
