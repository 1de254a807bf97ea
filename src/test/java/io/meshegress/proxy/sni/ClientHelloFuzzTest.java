package io.meshegress.proxy.sni;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.HostPattern;
import io.meshegress.tls.ClientHelloReader;
import io.meshegress.tls.HelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The SNI listener's path from client bytes to a decision, without sockets: the listeners' ClientHello reader
 * (the one {@link SniRouter} holds, 64 KiB at most) fed in fuzzer-chosen pieces, then the server_name through
 * the same normalization and policy check the router uses. Invariants: no exception escapes the reader; how the
 * bytes are split never changes its verdict; a server_name that is no host name is refused with a short
 * one-line reason; a valid one is normalized, and its case- or trailing-dot variants get the same decision.
 */
class ClientHelloFuzzTest {
    private static final EgressConfig CONFIG;
    private static final EgressPolicy POLICY;

    static {
        try {
            CONFIG = ConfigLoader.parse("fuzz.yaml", """
                    sni: [{listen: "127.0.0.1:8443", upstreamPort: 443}]
                    policy:
                      allow: ["*.qq.com", "api.example.com"]
                      deny: ["bad.qq.com"]
                    mesh:
                      destinations: []
                    """);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
        POLICY = CONFIG.egressPolicy();
    }

    @FuzzTest
    void clientHellos(byte[] bytes) {
        // Raw bytes (seeds are real clients' ClientHellos as captured); how they are split comes from the bytes too.
        int pieces = 1 + (Arrays.hashCode(bytes) & 7);
        HelloVerdict whole = new ClientHelloReader().read(Unpooled.wrappedBuffer(bytes));
        ClientHelloReader reader = new ClientHelloReader();
        ByteBuf held = Unpooled.buffer();
        HelloVerdict v = HelloVerdict.INCOMPLETE;
        int step = Math.max(1, bytes.length / pieces);
        for (int i = 0; i < bytes.length && !v.decided(); i += step) {
            held.writeBytes(bytes, i, Math.min(step, bytes.length - i));
            v = reader.read(held);
        }
        held.release();
        assertThat(v).as("the same verdict however the bytes arrive").isEqualTo(whole);
        if (!(v instanceof HelloVerdict.Named named)) {
            return;
        }
        String hostname = named.serverName();
        Optional<String> host = HostPattern.normalizeHost(hostname);
        if (host.isEmpty()) {
            assertThat(SniRouter.invalidNameReason(hostname)).doesNotContain("\n").hasSizeLessThan(200);
            return;
        }
        String h = host.get();
        assertThat(h).isEqualTo(h.toLowerCase(Locale.ROOT)).doesNotEndWith(".");
        Decision d = POLICY.checkName(h, 443);
        HostPattern.normalizeHost(h.toUpperCase(Locale.ROOT) + ".")
                .ifPresent(other -> assertThat(POLICY.checkName(other, 443)).isEqualTo(d));
    }
}
