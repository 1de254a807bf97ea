package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** deploy/prometheus with the real promtool: the rules load, and every alert's unit tests pass. */
class AlertRulesTest {
    static final Path DIR = Path.of("deploy/prometheus");

    @Test
    void promtoolChecksTheRules() throws Exception {
        Command c = Command.run(List.of("promtool", "check", "rules", DIR.resolve("rules.yaml").toString()));
        assertThat(c.exitCode()).as(c.out() + c.err()).isZero();
        assertThat(c.out() + c.err()).contains("SUCCESS: 8 rules found");
    }

    @Test
    void everyAlertHasAUnitTestAndTheyPass() throws Exception {
        Command c = Command.run(List.of("promtool", "test", "rules", DIR.resolve("rules-test.yaml").toString()));
        assertThat(c.exitCode()).as(c.out() + c.err()).isZero();
        String rules = Files.readString(DIR.resolve("rules.yaml"));
        String tests = Files.readString(DIR.resolve("rules-test.yaml"));
        for (String alert : List.of("MeshEgressDown", "MeshEgressReadinessFlapping", "MeshEgressRefusalSpike",
                "MeshEgressUpstreamConnectFailures", "MeshEgressDnsTimeouts", "MeshEgressReloadRejected",
                "MeshEgressAccessLogDropping", "MeshEgressIdentityStale")) {
            assertThat(rules).contains("alert: " + alert);
            assertThat(tests).as("a unit test that makes " + alert + " fire").contains("alertname: " + alert + "\n");
        }
    }
}
