package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's quick-start command: the jar with no file serves the embedded defaults. */
class DefaultConfigIT {

    @Test
    void runsOnTheEmbeddedDefaultsAndStopsCleanlyOnSigterm() throws Exception {
        try (JarProcess proxy = JarProcess.start("run")) {
            proxy.awaitErr(l -> l.contains("listening: sni 0.0.0.0:8443 (TLS passthrough by server_name to port 443)"));
            proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.1:9901"));
            proxy.awaitErr(l -> l.contains("listening: http 0.0.0.0:8080"));
            // The default policy has no destination on port 8080 and refuses loopback addresses.
            Command refusedHttp = Command.run(List.of("curl", "-sS", "--max-time", "10", "-x", "http://127.0.0.1:8080",
                    "http://api.github.com/"));
            assertThat(refusedHttp.out()).isEqualTo("mesh-egress: refused by policy.allow (api.github.com matches no "
                    + "allow pattern or mesh destination)\n");
            Command health = Command.run(List.of("curl", "-sS", "--max-time", "10", "http://127.0.0.1:9901/healthz"));
            assertThat(health.out()).isEqualTo("ok\n");
            // The default policy allows only *.qq.com, so a name outside it gets the alert and no DNS is needed.
            Command refused = Command.run(List.of("openssl", "s_client", "-connect", "127.0.0.1:8443",
                    "-servername", "api.github.com"), "");
            assertThat(refused.err()).containsIgnoringCase("unrecognized name");
            assertThat(proxy.stop()).isZero();
        }
    }
}
