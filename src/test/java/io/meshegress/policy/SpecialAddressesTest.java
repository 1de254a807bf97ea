package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.testing.Configs;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The default denyNetworks against the IANA special-purpose registries, and IPv4 carried inside IPv6. */
class SpecialAddressesTest {
    private static final EgressConfig DEFAULTS = ConfigLoader.embeddedDefault();
    private static final EgressPolicy POLICY = DEFAULTS.egressPolicy();

    @ParameterizedTest(name = "{0} is refused by {1}")
    @CsvSource(delimiter = '|', value = {
            "::                        | \"::/128\"",
            "::1                       | \"::1/128\"",
            "::7f00:1                  | \"127.0.0.0/8\" (::7f00:1 is IPv4-compatible for 127.0.0.1)",
            "::a9fe:a9fe               | \"169.254.0.0/16\"",
            "64:ff9b::a9fe:a9fe        | \"169.254.0.0/16\" (64:ff9b::a9fe:a9fe is NAT64 for 169.254.169.254)",
            "64:ff9b::808:808          | \"64:ff9b::/96\"",
            "64:ff9b:1:a9fe:a9:fe00::  | \"169.254.0.0/16\"",
            "64:ff9b:1:808:8:800::     | \"64:ff9b:1::/48\"",
            "2002:a9fe:a9fe::1         | \"169.254.0.0/16\"",
            "2002:808:808::1           | \"2002::/16\"",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2 | \"192.0.2.0/24\" (2001:0:4136:e378:8000:63bf:3fff:fdd2 is Teredo client for 192.0.2.45)",
            "2001:0:808:808:8000:63bf:f7f7:f7f7 | \"2001::/23\"",
            "2001:0:808:808::f5ff:fffe | \"10.0.0.0/8\"",
            "2001:db8::1               | \"2001:db8::/32\"",
            "3fff::1                   | \"3fff::/20\"",
            "5f00::1                   | \"5f00::/16\"",
            "100::1                    | \"100::/64\"",
            "fd00::1                   | \"fc00::/7\"",
            "fe80::1                   | \"fe80::/10\"",
            "fec0::1                   | \"fec0::/10\"",
            "ff02::1                   | \"ff00::/8\"",
            "0.1.2.3                   | \"0.0.0.0/8\"",
            "192.0.0.170               | \"192.0.0.0/24\"",
            "192.0.2.1                 | \"192.0.2.0/24\"",
            "192.88.99.1               | \"192.88.99.0/24\"",
            "198.19.0.1                | \"198.18.0.0/15\"",
            "198.51.100.7              | \"198.51.100.0/24\"",
            "203.0.113.7               | \"203.0.113.0/24\"",
            "239.1.1.1                 | \"224.0.0.0/4\"",
            "255.255.255.255           | \"240.0.0.0/4\"",
            "169.254.169.254           | \"169.254.0.0/16\"",
            "::ffff:169.254.169.254    | \"169.254.0.0/16\"",
    })
    void refusedByDefault(String address, String rule) throws Exception {
        Decision d = POLICY.checkAddress(InetAddress.getByName(address));
        assertThat(d.allowed()).as(address).isFalse();
        assertThat(d.rule()).contains(rule);
    }

    @ParameterizedTest(name = "{0} is allowed")
    @CsvSource({"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "192.31.196.1", "2620:4f:8000::1"})
    void globalAddressesPass(String address) throws Exception {
        assertThat(POLICY.checkAddress(InetAddress.getByName(address)).allowed()).as(address).isTrue();
    }

    @Test
    void theReasonNamesTheCarriedAddressAndItsForm() throws Exception {
        assertThat(POLICY.checkAddress(InetAddress.getByName("64:ff9b::a9fe:a9fe")).rule())
                .endsWith("\"169.254.0.0/16\" (64:ff9b::a9fe:a9fe is NAT64 for 169.254.169.254)");
        assertThat(POLICY.checkAddress(InetAddress.getByName("2001:0:808:808::f5ff:fffe")).rule())
                .contains("Teredo client for 10.0.0.1");
    }

    @Test
    void embeddedFormsAreJudgedEvenWhenTheWrappingRangeIsNotDenied() throws Exception {
        EgressConfig only = ConfigLoader.parse("t.yaml", Configs.withDefaultListeners("policy: {denyNetworks: [\"169.254.0.0/16\"]}"));
        EgressPolicy policy = only.egressPolicy();
        for (String a : new String[] {"64:ff9b::a9fe:a9fe", "64:ff9b:1:a9fe:a9:fe00::", "2002:a9fe:a9fe::",
                "2001:0:a9fe:a9fe::1", "2001::5601:5601", "::a9fe:a9fe", "::ffff:a9fe:a9fe"}) {
            assertThat(policy.checkAddress(InetAddress.getByName(a)).allowed()).as(a).isFalse();
        }
        assertThat(policy.checkAddress(InetAddress.getByName("64:ff9b::808:808")).allowed()).isTrue();
    }

    @Test
    void theEmbeddedDefaultFileListsExactlyTheBuiltInDefaults() throws Exception {
        EgressConfig noKey = ConfigLoader.parse("t.yaml", Configs.withDefaultListeners("policy: {}"));
        assertThat(DEFAULTS.policy().denyNetworks()).isEqualTo(noKey.policy().denyNetworks());
        assertThat(noKey.policy().denyNetworks()).extracting(Cidr::toString)
                .contains("::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10",
                        "fec0::/10", "ff00::/8");
    }
}
