package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check --client}: the client's role, why it has it, its mode, and the verdict per listener. */
class CheckRolesTest {
    static final String CONFIG = """
            http:
              connectPorts: [443, 563]
            sni: null
            admin: null
            policy:
              allow: [api.github.com]
              roles:
                - name: payments
                  clients: ["10.1.0.0/16", 10.9.8.7]
                  allow: [api.stripe.com, "*.adyen.com"]
                  connectPorts: [443]
                - name: batch
                  clients: ["10.2.0.0/16"]
                  allow: []
                  mode: report
            mesh:
              destinations: []
            """;

    @Test
    void explainsTheRoleAndItsRules(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
        CliRun pay = CliRun.of("check", "-c", file.toString(), "--client", "10.1.2.3", "api.stripe.com:443",
                "api.stripe.com:563", "api.github.com:443");
        assertThat(pay.status()).as(pay.err()).isZero();
        assertThat(pay.out())
                .contains("  role payments: clients [10.1.0.0/16, 10.9.8.7/32], allow [api.stripe.com, *.adyen.com], "
                        + "mode enforce, CONNECT to ports [443]")
                .contains("client 10.1.2.3: role payments (policy.roles[0].clients \"10.1.0.0/16\"), mode enforce")
                .contains("api.stripe.com:443 via http 0.0.0.0:8080 CONNECT: allowed by policy.roles[0].allow[0] "
                        + "\"api.stripe.com\"")
                .contains("api.stripe.com:563 via http 0.0.0.0:8080 CONNECT: refused by policy.roles[0].connectPorts "
                        + "(port 563 is not in [443])")
                .contains("api.github.com:443 via http 0.0.0.0:8080 CONNECT: refused by policy.roles[0].allow "
                        + "(api.github.com matches no allow pattern of role payments)");

        CliRun batch = CliRun.of("check", "-c", file.toString(), "--client", "10.2.0.9", "api.github.com");
        assertThat(batch.out())
                .contains("client 10.2.0.9: role batch (policy.roles[1].clients \"10.2.0.0/16\"), mode report")
                .contains("api.github.com:443 via http 0.0.0.0:8080 CONNECT: allowed by policy.roles[1].mode report "
                        + "(would be refused by policy.roles[1].allow (api.github.com matches no allow pattern of role "
                        + "batch))");

        CliRun nobody = CliRun.of("check", "-c", file.toString(), "--client", "10.3.0.1", "api.github.com");
        assertThat(nobody.out())
                .contains("client 10.3.0.1: role default (no policy.roles entry holds it), mode enforce")
                .contains("CONNECT: allowed by policy.allow[0] \"api.github.com\"");
        // Outside the private ranges (policy.clients not written), a client is refused before any role.
        CliRun outsider = CliRun.of("check", "-c", file.toString(), "--client", "192.0.2.1", "api.github.com");
        assertThat(outsider.out()).contains("api.github.com:443 via http 0.0.0.0:8080 CONNECT: refused by "
                + "policy.clients (client 192.0.2.1 is in none of them)");

        CliRun anyone = CliRun.of("check", "-c", file.toString(), "api.github.com");
        assertThat(anyone.out()).contains("any client (no --client): role default (no --client), mode enforce");
    }
}
