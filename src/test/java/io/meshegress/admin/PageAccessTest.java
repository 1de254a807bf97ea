package io.meshegress.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Cidr;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Who may read the admin pages by default: loopback peers as the RFCs define them. RFC 1122 §3.2.1.3: all of
 * 127/8 is loopback; RFC 4291 §2.5.3: ::1 is IPv6's only loopback address; §2.5.5.2: ::ffff:127.0.0.1 is the
 * IPv4 peer 127.0.0.1 seen on a dual-stack socket; §2.5.5.1's IPv4-compatible ::127.0.0.1 is deprecated and no
 * loopback; RFC 6052's 64:ff9b::127.0.0.1 is a remote host's address translated by NAT64, never this host.
 */
class PageAccessTest {
    static final List<Cidr> LOOPBACK = EgressConfig.Admin.LOOPBACK;

    @Test
    void loopbackPeersReadThePagesByDefault() throws Exception {
        for (String peer : List.of("127.0.0.1", "127.0.0.215", "127.255.255.254", "::1")) {
            assertThat(decide(AdminRoute.STATUS_PAGE, InetAddress.getByName(peer), LOOPBACK)).as(peer)
                    .isInstanceOf(PageAccess.Granted.class);
        }
        // The mapped form as a dual-stack socket reports it (an Inet6Address, not converted to IPv4).
        InetAddress mapped = v6("00000000000000000000ffff7f000001");
        assertThat(mapped).isInstanceOf(Inet6Address.class);
        assertThat(decide(AdminRoute.REFUSALS, mapped, LOOPBACK)).isInstanceOf(PageAccess.Granted.class);
    }

    @Test
    void everyOtherPeerIsForbiddenThePagesByDefault() throws Exception {
        List<InetAddress> others = List.of(InetAddress.getByName("10.0.0.1"), InetAddress.getByName("0.0.0.0"),
                InetAddress.getByName("128.0.0.1"), InetAddress.getByName("126.255.255.255"),
                InetAddress.getByName("::"), InetAddress.getByName("::2"), InetAddress.getByName("fe80::1"),
                v6("00000000000000000000ffff0a000001"), // ::ffff:10.0.0.1
                v6("0000000000000000000000007f000001"), // ::127.0.0.1, IPv4-compatible (deprecated)
                v6("0064ff9b00000000000000007f000001")); // 64:ff9b::127.0.0.1, NAT64
        for (InetAddress peer : others) {
            for (AdminRoute page : List.of(AdminRoute.STATUS_PAGE, AdminRoute.REFUSALS, AdminRoute.EXPLAIN)) {
                assertThat(decide(page, peer, LOOPBACK)).as(page + " " + peer).isInstanceOf(PageAccess.Forbidden.class);
            }
        }
    }

    @Test
    void probesAndMetricsAnswerEveryone() throws Exception {
        for (AdminRoute open : List.of(AdminRoute.HEALTHZ, AdminRoute.READYZ, AdminRoute.METRICS)) {
            assertThat(decide(open, InetAddress.getByName("10.0.0.1"), List.of())).isInstanceOf(PageAccess.Granted.class);
        }
    }

    @Test
    void pageClientsReplaceTheDefault() throws Exception {
        List<Cidr> pods = List.of(Cidr.parse("10.0.0.0/8"));
        assertThat(decide(AdminRoute.EXPLAIN, InetAddress.getByName("10.1.2.3"), pods)).isInstanceOf(PageAccess.Granted.class);
        assertThat(decide(AdminRoute.EXPLAIN, v6("00000000000000000000ffff0a010203"), pods))
                .isInstanceOf(PageAccess.Granted.class);
        assertThat(decide(AdminRoute.EXPLAIN, InetAddress.getByName("127.0.0.1"), pods)).isInstanceOf(PageAccess.Forbidden.class);
        assertThat(decide(AdminRoute.EXPLAIN, InetAddress.getByName("127.0.0.1"), List.of()))
                .isInstanceOf(PageAccess.Forbidden.class);
        List<Cidr> anyone = List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"));
        for (String peer : List.of("127.0.0.1", "203.0.113.9", "::1", "2001:db8::1")) {
            assertThat(decide(AdminRoute.STATUS_PAGE, InetAddress.getByName(peer), anyone)).isInstanceOf(PageAccess.Granted.class);
        }
    }

    @Test
    void theRoutesAreExactPaths() {
        assertThat(AdminRoute.at("/")).contains(AdminRoute.STATUS_PAGE);
        assertThat(AdminRoute.at("/metrics")).contains(AdminRoute.METRICS);
        for (String other : List.of("", "//", "/metrics/", "/METRICS", "/refusals/../metrics", "/healthz?x")) {
            assertThat(AdminRoute.at(other)).as(other).isEmpty();
        }
    }

    private static PageAccess decide(AdminRoute route, InetAddress peer, List<Cidr> clients) {
        return PageAccess.decide(route, new InetSocketAddress(peer, 40000), clients);
    }

    private static InetAddress v6(String hex) throws Exception {
        return Inet6Address.getByAddress(null, HexFormat.of().parseHex(hex), -1);
    }
}
