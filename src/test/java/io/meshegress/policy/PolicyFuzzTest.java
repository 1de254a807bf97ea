package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The pure policy parsers and decisions. Invariants: host patterns and CIDRs parse or fail with a message, and
 * what parses prints back to text that parses to the same value; the same host spelled another way (case, one
 * trailing dot) gets the same decision; an address refused as the IPv4 it carries is refused however it is
 * wrapped.
 */
class PolicyFuzzTest {
    private static final EgressConfig DEFAULTS = ConfigLoader.embeddedDefault();
    private static final EgressPolicy DEFAULT_POLICY = DEFAULTS.egressPolicy();

    @FuzzTest
    void hostPatterns(FuzzedDataProvider data) {
        String patternText = data.consumeString(300);
        String hostText = data.consumeRemainingAsString();
        HostPattern pattern;
        try {
            pattern = HostPattern.parse(patternText);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(400);
            return;
        }
        assertThat(HostPattern.parse(pattern.toString())).isEqualTo(pattern);
        Optional<String> host = HostPattern.normalizeHost(hostText);
        if (host.isEmpty()) {
            return;
        }
        String h = host.get();
        assertThat(HostPattern.normalizeHost(h)).contains(h);
        HostMatcher<String> matcher = new HostMatcher<String>().add(pattern, "p");
        boolean matches = pattern.matches(h);
        assertThat(matcher.matches(h).isEmpty()).isEqualTo(!matches);
        Optional<String> spelledOtherwise = HostPattern.normalizeHost(h.toUpperCase(Locale.ROOT) + ".");
        spelledOtherwise.ifPresent(other -> {
            assertThat(other).isEqualTo(h);
            assertThat(pattern.matches(other)).isEqualTo(matches);
        });
    }

    @FuzzTest
    void networks(FuzzedDataProvider data) throws Exception {
        String text = data.consumeString(100);
        byte[] raw = data.consumeBytes(16);
        try {
            Cidr c = Cidr.parse(text);
            assertThat(Cidr.parse(c.toString())).isEqualTo(c);
            assertThat(c.contains(InetAddress.getByAddress(c.network()))).isTrue();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(400);
        }
        if (raw.length != 4 && raw.length != 16) {
            return;
        }
        InetAddress address = InetAddress.getByAddress(raw);
        Decision d = DEFAULT_POLICY.checkAddress(address);
        List<EmbeddedIpv4.Embedded> carried = EmbeddedIpv4.of(address);
        for (EmbeddedIpv4.Embedded e : carried) {
            if (!DEFAULT_POLICY.checkAddress(e.address()).allowed()) {
                assertThat(d.allowed()).as(address + " carries " + e.address()).isFalse();
            }
        }
    }
}
