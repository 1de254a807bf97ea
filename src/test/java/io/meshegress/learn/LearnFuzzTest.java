package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.HostPattern;

/**
 * Access logs are read back by {@code learn}, and a log holds what clients chose to send (host names above
 * all). Whatever lines it meets, learn must not fail, must count every line, and must print a policy that
 * the loader accepts, with every proposed pattern a valid host pattern.
 */
class LearnFuzzTest {
    private static final EgressConfig CONFIG;

    static {
        try {
            CONFIG = ConfigLoader.parse("c.yaml", """
                    http:
                      listen: "127.0.0.1:8080"
                    policy:
                      roles:
                        - {name: team, clients: ["10.1.0.0/16"], allow: [a.test]}
                    """);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest
    void logLines(FuzzedDataProvider data) throws Exception {
        TrafficProfile profile = new TrafficProfile(null);
        int lines = 0;
        while (data.remainingBytes() > 0 && lines < 50) {
            String host = data.consumeString(80);
            String role = data.consumeBoolean() ? data.consumeString(20)
                    : data.pickValue(new String[] {"default", "team", "ghost"});
            String line = data.consumeBoolean() ? data.consumeString(300)
                    : "{\"time\":\"2026-11-29T10:00:00Z\",\"role\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(role) + ",\"kind\":\"http\",\"host\":"
                    + com.fasterxml.jackson.databind.node.TextNode.valueOf(host) + ",\"port\":"
                    + data.consumeInt(-5, 70000) + ",\"decision\":\"" + (data.consumeBoolean() ? "allowed" : "refused")
                    + "\"}";
            profile.add(line, "fuzz:" + ++lines);
        }
        String yaml = ProposalYaml.render(CONFIG, "c.yaml", profile, data.consumeBoolean()
                ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(data.consumeInt(1, 6)), 1);
        EgressConfig learned = ConfigLoader.parse("learned.yaml", "http:\n  listen: \"127.0.0.1:8080\"\n" + yaml);
        assertThat(learned.policy().roles()).hasSize(1);
        profile.byRole().values().forEach(hosts -> AllowListProposal.propose(hosts, java.util.OptionalInt.of(2), 1)
                .forEach(e -> assertThat(HostPattern.parse(e.pattern()).toString()).isEqualTo(e.pattern())));
        assertThat(profile.summary()).startsWith(lines + " lines read");
    }
}
