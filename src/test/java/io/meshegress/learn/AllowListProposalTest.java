package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.testing.Configs;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class AllowListProposalTest {
    static final Instant T = Instant.parse("2026-11-29T10:00:00Z");
    static final String HTTP = "http:\n  listen: \"127.0.0.1:8080\"\n";

    private static String line(String role, String host, int port, String decision, String wouldRefuse) {
        return "{\"time\":\"" + T + "\",\"listener\":\"http 0.0.0.0:8080\",\"client\":\"10.0.0.1:5555\",\"role\":\""
                + role + "\",\"kind\":\"connect\",\"host\":\"" + host + "\",\"port\":" + port
                + ",\"resolved\":\"192.0.2.1\",\"decision\":\"" + decision + "\",\"reason\":\"x\""
                + (wouldRefuse == null ? "" : ",\"wouldRefuse\":\"" + wouldRefuse + "\"")
                + ",\"status\":200,\"bytesUp\":1,\"bytesDown\":2,\"durationMs\":3}";
    }

    private static TrafficProfile profile(String... hosts) {
        TrafficProfile p = new TrafficProfile(null);
        int n = 0;
        for (String h : hosts) {
            p.add(line("default", h, 443, "allowed", null), "log:" + ++n);
        }
        return p;
    }

    private static List<String> patterns(TrafficProfile p, int collapseAbove) {
        return AllowListProposal.propose(p.byRole().get("default"), OptionalInt.of(collapseAbove), 1).stream()
                .map(AllowListProposal.Entry::pattern).toList();
    }

    @Test
    void namesUnderOnePublicSuffixNeverCollapseOverIt() {
        TrafficProfile p = profile("a.example.co.uk", "b.example.co.uk", "c.other.co.uk", "d.third.co.uk",
                "e.fourth.co.uk", "f.fifth.co.uk", "g.sixth.co.uk");
        // Seven names under co.uk, but each registrable domain holds one or two: no wildcard at all.
        assertThat(patterns(p, 1)).containsExactly("*.example.co.uk", "c.other.co.uk", "d.third.co.uk",
                "e.fourth.co.uk", "f.fifth.co.uk", "g.sixth.co.uk");
        assertThat(patterns(p, 5)).doesNotContain("*.co.uk").contains("a.example.co.uk", "b.example.co.uk");
    }

    @Test
    void moreThanKNamesUnderARegistrableDomainBecomeAWildcardTheApexStaysExact() {
        TrafficProfile p = profile("example.com", "a.example.com", "b.example.com", "c.x.example.com",
                "api.github.com", "me.github.io", "you.github.io", "them.github.io", "192.0.2.7", "local.test");
        assertThat(patterns(p, 2)).containsExactly("*.example.com", "192.0.2.7", "api.github.com", "example.com",
                "local.test", "me.github.io", "them.github.io", "you.github.io");
        assertThat(patterns(p, 3)).contains("a.example.com", "b.example.com", "c.x.example.com")
                .doesNotContain("*.example.com");
    }

    @Test
    void evidenceCountsPortsAndReportOnlyConnections() {
        TrafficProfile p = new TrafficProfile(null);
        p.add(line("default", "api.example.com", 443, "allowed", "refused by policy.allow (x)"), "l:1");
        p.add(line("default", "api.example.com", 8443, "allowed", null), "l:2");
        AllowListProposal.Entry e = AllowListProposal.propose(p.byRole().get("default"), OptionalInt.empty(), 1).get(0);
        assertThat(e.ports()).containsExactly(443, 8443);
        assertThat(e.evidence()).isEqualTo("2 connections, 1 allowed only by report mode");
    }

    @Test
    void everyLineIsAccountedForAndRefusalsAreNeverProposed() {
        TrafficProfile p = new TrafficProfile(T.plusSeconds(1));
        p.add(line("default", "old.example.com", 443, "allowed", null), "l:1");
        p.add("not json at all", "l:2");
        p.add("{\"time\":\"yesterday\",\"kind\":\"http\",\"decision\":\"allowed\",\"port\":80}", "l:3");
        p.add("", "l:4");
        p.add(line("default", "evil.example.com", 443, "refused", null).replace(T.toString(), T.plusSeconds(5).toString()),
                "l:5");
        assertThat(p.byRole()).isEmpty();
        assertThat(p.notAccessLogLines()).isEqualTo(3);
        assertThat(p.summary()).isEqualTo("5 lines read: 0 allowed connections used (0 of them allowed only by "
                + "report mode), 1 refused (never proposed: a refusal may be an attack), 1 older than --since, "
                + "3 not access-log lines (l:2, l:3, l:4)");
    }

    @Test
    void aRoleNameTheProxyCouldNotHaveWrittenMakesTheLineNotALogLine() throws Exception {
        TrafficProfile p = new TrafficProfile(null);
        p.add(line("x\\npolicy:\\n  allow: [\\\"*\\\"]\\n#", "evil.example.com", 443, "allowed", null), "l:1");
        assertThat(p.byRole()).isEmpty();
        assertThat(p.notAccessLogLines()).isEqualTo(1);
        String yaml = ProposalYaml.render(ConfigLoader.parse("c.yaml", HTTP), "c.yaml", p, OptionalInt.empty(), 1);
        assertThat(yaml).doesNotContain("evil").doesNotContain("\"*\"");
    }

    @Test
    void aConnectPortOutsideTheConnectPortsIsSaidNotHidden() throws Exception {
        TrafficProfile p = new TrafficProfile(null);
        p.add(line("default", "ssh.example.com", 22, "allowed", "refused by http.connectPorts (port 22 is not in "
                + "[443, 563])"), "l:1");
        p.add(line("default", "api.example.com", 443, "allowed", null), "l:2");
        String yaml = ProposalYaml.render(ConfigLoader.parse("c.yaml", HTTP), "c.yaml", p, OptionalInt.empty(), 1);
        assertThat(yaml).contains("# CONNECT ssh.example.com:22 was seen, but port 22 is not in http.connectPorts "
                + "[443, 563]").doesNotContain("api.example.com:443 was seen");
        assertThat(Configs.parseWithDefaultListeners("learned.yaml", yaml).policy().allow()).hasSize(2);
    }

    @Test
    void theProposalIsConfigTheLoaderAcceptsEvenWithNoTraffic() throws Exception {
        EgressConfig cfg = ConfigLoader.parse("c.yaml", HTTP + """
                policy:
                  deny: ["*.evil.test"]
                  roles:
                    - {name: payments, clients: ["10.1.0.0/16"], allow: [a.test], mode: report, connectPorts: [443]}
                """);
        String yaml = ProposalYaml.render(cfg, "c.yaml", new TrafficProfile(null), OptionalInt.empty(), 1);
        EgressConfig learned = ConfigLoader.parse("learned.yaml", HTTP + yaml);
        // No traffic: an empty list, which allows no host.
        assertThat(learned.policy().allow()).isEmpty();
        assertThat(learned.egressPolicy().defaultRole().checkName("any.example.com", 443).allowed()).isFalse();
        assertThat(learned.policy().roles().get(0).allow()).isEmpty();
        assertThat(learned.policy().roles().get(0).connectPorts()).containsExactly(443);
        assertThat(learned.policy().deny()).extracting(Object::toString).containsExactly("*.evil.test");
        assertThat(yaml).contains("mode: enforce  # was report");
    }
}
