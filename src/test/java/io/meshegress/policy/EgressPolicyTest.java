package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {
    /** A file's policy; the file gets an http listener (a file needs one), nothing else is added. */
    static EgressPolicy policy(String yaml) throws Exception {
        EgressConfig c = ConfigLoader.parse("t.yaml", "http: {listen: \"127.0.0.1:8080\"}\n" + yaml);
        return c.egressPolicy();
    }

    @Test
    void destinationsAllowOnlyTheirPortsAndAllowAllowsAnyPort() throws Exception {
        EgressPolicy p = policy("""
                policy:
                  allow: [api.github.com]
                  deny: ["*.bad.qq.com"]
                mesh:
                  destinations:
                    - hosts: ["*.qq.com"]
                      tls: [443, 9443]
                """);
        assertThat(p.checkName("www.qq.com", 443)).isEqualTo(Decision.allow("mesh.destinations[0] \"*.qq.com\""));
        assertThat(p.checkName("www.qq.com", 9443).allowed()).isTrue();
        assertThat(p.checkName("www.qq.com", 22).rule())
                .isEqualTo("mesh.destinations[0] \"*.qq.com\" (port 22 is not one of its ports [443, 9443])");
        assertThat(p.checkName("api.github.com", 22)).isEqualTo(Decision.allow("policy.allow[0] \"api.github.com\""));
        assertThat(p.checkName("x.bad.qq.com", 443)).isEqualTo(Decision.refuse("policy.deny[0] \"*.bad.qq.com\""));
        assertThat(p.checkName("github.com", 443).allowed()).isFalse();
    }

    @Test
    void emptyOrAbsentAllowAndNoDestinationsAllowNothing() throws Exception {
        for (String file : new String[] {"mesh:\n  destinations: []\n", "policy:\n  allow: []\n", "admin: null\n"}) {
            EgressPolicy p = policy(file);
            assertThat(p.checkName("anything.example", 443)).as(file)
                    .isEqualTo(Decision.refuse("policy.allow (empty, and no mesh.destinations: no host)"));
            assertThat(p.checkName("93.184.216.34", 443).allowed()).as(file).isFalse();
        }
    }

    @Test
    void starAllowsEveryNameButNotDeniedNetworksNorIpLiterals() throws Exception {
        EgressPolicy p = policy("policy:\n  allow: [\"*\"]\n");
        assertThat(p.checkName("anything.example", 1234)).isEqualTo(Decision.allow("policy.allow[0] \"*\""));
        // The README's pattern table: "*" matches every name, not an IP literal (denyNetworks judges addresses).
        assertThat(p.checkName("93.184.216.34", 443).allowed()).isFalse();
        assertThat(p.checkAddress(InetAddress.getByName("169.254.169.254")))
                .isEqualTo(Decision.refuse("policy.denyNetworks[4] \"169.254.0.0/16\""));
        assertThat(p.checkAddress(InetAddress.getByName("::ffff:10.1.1.1")).allowed()).isFalse();
        assertThat(p.checkAddress(InetAddress.getByName("93.184.216.34")).allowed()).isTrue();
    }

    @Test
    void clientsRestrictWhoMayUseTheProxy() throws Exception {
        EgressPolicy p = policy("policy:\n  clients: [10.1.0.0/16]\n");
        assertThat(p.checkClient(InetAddress.getByName("10.1.2.3")).allowed()).isTrue();
        assertThat(p.checkClient(InetAddress.getByName("10.2.0.1")).allowed()).isFalse();
        assertThat(p.checkClient(InetAddress.getByName("127.0.0.1")).allowed()).isFalse();
    }

    /**
     * Without policy.clients, the private and local ranges may use the proxy and nobody else. Each address is
     * taken from the registry that makes it private or public: RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598
     * (100.64/10, carrier-grade NAT), RFC 1122 (127/8), RFC 4291 (::1, fe80::/10), RFC 4193 (fc00::/7); the
     * public ones are the edges just outside those blocks and well-known public resolvers.
     */
    @Test
    void withoutClientsOnlyPrivateAndLocalAddressesMayUseTheProxy() throws Exception {
        EgressPolicy p = policy("");
        for (String inside : new String[] {"10.0.0.0", "10.255.255.255", "172.16.0.1", "172.31.255.254",
                "192.168.0.1", "192.168.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.254",
                "::1", "fc00::1", "fd12:3456:789a::1", "fe80::1", "febf:ffff::1"}) {
            assertThat(p.checkClient(InetAddress.getByName(inside))).as(inside)
                    .matches(Decision::allowed, "allowed");
        }
        for (String outside : new String[] {"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "172.15.255.255",
                "172.32.0.0", "192.167.255.255", "192.169.0.0", "100.63.255.255", "100.128.0.0", "128.0.0.1",
                "169.254.169.254", "203.0.113.7", "2001:4860:4860::8888", "2606:4700:4700::1111", "fbff::1",
                "fec0::1", "::"}) {
            Decision d = p.checkClient(InetAddress.getByName(outside));
            assertThat(d.allowed()).as(outside).isFalse();
            assertThat(d.rule()).as(outside).startsWith("policy.clients (client ");
        }
    }

    @Test
    void anyClientIsWrittenOut() throws Exception {
        EgressPolicy p = policy("policy:\n  clients: [\"0.0.0.0/0\", \"::/0\"]\n");
        for (String any : new String[] {"8.8.8.8", "203.0.113.7", "10.1.2.3", "2001:4860:4860::8888", "::1"}) {
            assertThat(p.checkClient(InetAddress.getByName(any)).allowed()).as(any).isTrue();
        }
    }

    @Test
    void matcherFindsMostSpecificFirstAmongManyPatterns() {
        HostMatcher<String> m = new HostMatcher<>();
        for (int i = 0; i < 5000; i++) {
            m.add(HostPattern.parse("*.d" + i + ".example"), "w" + i);
            m.add(HostPattern.parse("h" + i + ".example"), "e" + i);
        }
        m.add(HostPattern.parse("*.example"), "top");
        assertThat(m.matches("a.b.d42.example")).containsExactly("w42", "top");
        assertThat(m.matches("h7.example")).containsExactly("e7", "top");
        assertThat(m.matches("example")).isEmpty();
    }
}
