package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {
    static EgressPolicy policy(String yaml) throws Exception {
        EgressConfig c = ConfigLoader.parse("t.yaml", yaml);
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
    void emptyAllowAndNoDestinationsAllowsEveryHostButNotDeniedNetworks() throws Exception {
        EgressPolicy p = policy("mesh:\n  destinations: []\n");
        assertThat(p.checkName("anything.example", 1234).allowed()).isTrue();
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
