package io.meshegress.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.dns.EgressResolver;
import io.meshegress.identity.ClientIdentity;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.policy.Decision;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The route as the spine hands it to every listener: a refusal is a value that opens nothing, an allowance opens
 * its upstream once (against a real DNS server over UDP and a real listening socket on loopback).
 */
class RouteTest {
    TestDnsServer dns;
    MultiThreadIoEventLoopGroup group;
    EventLoop loop;
    EgressResolver resolver;
    ServerSocket origin;
    RouteTable routes;
    UpstreamConnector connector;

    @BeforeEach
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3");
        origin = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.3"));
        group = Transport.select().newGroup(1);
        loop = group.next();
        EgressConfig c = ConfigLoader.parse("route.yaml", """
                http:
                  listen: "127.0.0.2:8080"
                  connectPorts: [443]
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["*.qq.test"]
                  deny: ["deny.qq.test"]
                  denyNetworks: ["10.0.0.0/8"]
                  roles:
                    - name: watched
                      clients: ["127.0.0.7/32"]
                      allow: ["only.qq.test"]
                      mode: report
                """.formatted(dns.configAddress()));
        resolver = new EgressResolver(c.resolver(), Transport.select(), new ProxyMetrics());
        routes = new RouteTable(c);
        connector = new UpstreamConnector(routes, resolver, Transport.select(), c.timeouts(), new ProxyMetrics());
    }

    @AfterEach
    void stop() throws Exception {
        loop.submit(resolver::close).syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        origin.close();
        dns.close();
    }

    private Destination to(String host, int port, Destination.Kind kind, String client) throws Exception {
        InetSocketAddress from = new InetSocketAddress(InetAddress.getByName(client), 40000);
        Downstream d = new Downstream(from, "http 127.0.0.2:8080", "http",
                routes.role(from.getAddress(), ClientIdentity.NO_POD), ClientIdentity.NO_POD, null, 0);
        return new Destination(host, port, kind, d);
    }

    @Test
    void aDeniedNameIsARefusedRouteWithTheRuleTheLogPrints() throws Exception {
        Route r = connector.route(to("deny.qq.test", 80, Destination.Kind.HTTP, "127.0.0.5"));
        assertThat(r).isInstanceOf(Route.Refused.class);
        Route.Refused refused = (Route.Refused) r;
        assertThat(refused.refusal()).isEqualTo(Refusal.NAME_DENIED);
        assertThat(refused.reason()).isEqualTo("refused by policy.deny[0] \"deny.qq.test\"");
        assertThat(refused.outcome()).isEqualTo(new UpstreamOutcome.Refused(Refusal.NAME_DENIED,
                "refused by policy.deny[0] \"deny.qq.test\"", null));
    }

    @Test
    void aConnectToAPortNotListedIsARefusedRoute() throws Exception {
        Route r = connector.route(to("www.qq.test", 8443, Destination.Kind.CONNECT, "127.0.0.5"));
        assertThat(r).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) r).refusal()).isEqualTo(Refusal.PORT_DENIED);
    }

    @Test
    void reportModeIsAnAllowedRouteThatCarriesWhatEnforceWouldRefuse() throws Exception {
        Route r = connector.route(to("www.qq.test", 80, Destination.Kind.HTTP, "127.0.0.7"));
        assertThat(r).isInstanceOf(Route.Allowed.class);
        Route.Allowed allowed = (Route.Allowed) r;
        assertThat(allowed.rule()).isEqualTo("policy.roles[0].mode report");
        assertThat(allowed.wouldRefuse().allowed()).isFalse();
        assertThat(allowed.verdict().toString())
                .startsWith("allowed by policy.roles[0].mode report (would be refused by ");
    }

    @Test
    void anAllowedRouteOpensItsUpstreamOnceAndOnlyOnce() throws Exception {
        Route r = connector.route(to("www.qq.test", origin.getLocalPort(), Destination.Kind.HTTP, "127.0.0.5"));
        assertThat(r).isInstanceOf(Route.Allowed.class);
        Route.Allowed allowed = (Route.Allowed) r;
        // docs/configuration.md: the log's reason names the rule, and `check` prints "allowed by" before it.
        assertThat(allowed.rule()).isEqualTo("policy.allow[0] \"*.qq.test\"");
        assertThat(allowed.verdict()).hasToString("allowed by policy.allow[0] \"*.qq.test\"");
        Future<UpstreamOutcome> opened = loop.submit(() -> allowed.open(loop)).get(10, TimeUnit.SECONDS);
        assertThat(opened.await(10, TimeUnit.SECONDS)).isTrue();
        UpstreamOutcome outcome = opened.getNow();
        assertThat(outcome).isInstanceOf(UpstreamOutcome.Connected.class);
        UpstreamOutcome.Connected c = (UpstreamOutcome.Connected) outcome;
        assertThat(c.address()).isEqualTo(new InetSocketAddress("127.0.0.3", origin.getLocalPort()));
        c.channel().close().syncUninterruptibly();
        assertThatThrownBy(() -> loop.submit(() -> allowed.open(loop)).syncUninterruptibly())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("www.qq.test:" + origin.getLocalPort());
    }

    @Test
    void neitherKindOfRouteTakesTheOtherKindOfVerdict() throws Exception {
        Destination d = to("www.qq.test", 80, Destination.Kind.HTTP, "127.0.0.5");
        RouteTable.Verdict allowed = routes.decide(d);
        RouteTable.Verdict refused = new RouteTable.Verdict(Decision.refuse("policy.deny[0]"), Refusal.NAME_DENIED,
                allowed.role(), null);
        assertThatThrownBy(() -> new Route.Allowed(d, refused, connector)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Route.Refused(d, allowed)).isInstanceOf(IllegalArgumentException.class);
    }
}
