package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {
    @ParameterizedTest(name = "{0} contains {1} = {2}")
    @CsvSource({
            "10.0.0.0/8,       10.255.1.2,           true",
            "10.0.0.0/8,       11.0.0.1,             false",
            "169.254.0.0/16,   169.254.169.254,      true",
            "100.64.0.0/10,    100.127.255.255,      true",
            "100.64.0.0/10,    100.128.0.0,          false",
            "127.0.0.0/8,      ::ffff:127.0.0.1,     true",
            "10.0.0.0/8,       ::ffff:a00:1,         true",
            "fc00::/7,         fd12::1,              true",
            "fc00::/7,         fe80::1,              false",
            "::1/128,          ::1,                  true",
            "0.0.0.0/0,        8.8.8.8,              true",
            "127.0.0.9,        127.0.0.9,            true",
            "127.0.0.9,        127.0.0.8,            false",
            "10.0.0.0/8,       fd00::a00:1,          false",
    })
    void contains(String cidr, String address, boolean expected) throws Exception {
        assertThat(Cidr.parse(cidr).contains(InetAddress.getByName(address))).isEqualTo(expected);
    }
}
