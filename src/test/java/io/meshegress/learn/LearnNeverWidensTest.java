package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code learn} never widens a policy: for any config and any log, the config with the learned policy section
 * pasted in, loaded by the real loader and judged by the real route table, allows no (client, host, port) on
 * any listener kind that the old config did not allow in enforce mode and that the log did not show that
 * client's role reaching. Generated cases (a seeded Random: the same cases every run, and a failure names its
 * seed and case) cover roles, report mode, wildcards, mesh destinations, port-limited entries, CONNECT ports,
 * deny lists, refused lines, unknown roles and lines that are not the proxy's.
 */
class LearnNeverWidensTest {
    static final long SEED = 0x5eed_1ea7L;
    static final int CASES = 400;
    static final Instant T = Instant.parse("2026-11-29T10:00:00Z");

    static final String[] HOSTS = {"api.stripe.com", "files.stripe.com", "stripe.com", "a.example.com",
        "b.example.com", "c.example.com", "d.example.com", "e.example.com", "f.example.com", "g.example.com",
        "deep.x.example.com", "example.com", "api.github.com", "raw.github.io", "192.0.2.7", "2001:db8::7",
        "never.seen.example.org"};
    static final String[] PATTERNS = {"api.stripe.com", "*.stripe.com", "stripe.com", "*.example.com", "a.example.com",
        "example.com", "api.github.com", "*.github.io", "192.0.2.7", "2001:db8::7", "*"};
    static final int[] PORTS = {22, 80, 443, 8080, 8443, 10443};
    static final int[] CONNECT_PORTS = {443, 8443, 10443};
    /** A client in no role, one in each named role, and one outside policy.clients when it is narrowed. */
    static final String[] CLIENTS = {"127.0.0.1", "127.0.1.5", "127.0.2.5", "192.0.2.200"};
    static final String[] ROLES = {"default", "alpha", "beta", "ghost"};

    @Test
    void theLearnedFileAllowsNothingTheOldFileRefusedAndTheTrafficDidNotShow() throws Exception {
        Random random = new Random(SEED);
        int judged = 0;
        int narrowed = 0;
        for (int c = 0; c < CASES; c++) {
            String base = base(random);
            String oldPolicy = policy(random);
            String oldText = base + oldPolicy;
            EgressConfig old = ConfigLoader.parse("old.yaml", oldText);
            List<String> log = traffic(random);
            Set<String> shown = new HashSet<>();
            TrafficProfile profile = new TrafficProfile(null);
            for (int i = 0; i < log.size(); i++) {
                profile.add(log.get(i), "log:" + (i + 1));
                LoggedConnection.parse(log.get(i)).filter(l -> l.allowed() && l.host() != null)
                        .ifPresent(l -> shown.add(l.role() + " " + l.host() + " " + l.port()));
            }
            long minCount = 1 + random.nextInt(2);
            String learnedPolicy = ProposalYaml.render(old, "old.yaml", profile, OptionalInt.empty(), minCount);
            String learnedText = base + learnedPolicy;
            String where = "case " + c + " (seed " + SEED + ")\n--- old\n" + oldText + "--- log\n"
                    + String.join("\n", log) + "\n--- learned\n" + learnedText;
            EgressConfig learned = ConfigLoader.parse("learned.yaml", learnedText);
            RouteTable before = new RouteTable(old);
            RouteTable after = new RouteTable(learned);
            for (String client : CLIENTS) {
                InetAddress address = InetAddress.getByName(client);
                assertThat(after.role(address).name()).as(where).isEqualTo(before.role(address).name());
                String role = before.role(address).name();
                for (String host : HOSTS) {
                    for (int port : PORTS) {
                        for (Destination.Kind kind : Destination.Kind.values()) {
                            judged++;
                            RouteTable.Verdict now = after.decide(address, kind, host, port);
                            if (!now.allowed()) {
                                continue;
                            }
                            RouteTable.Verdict was = before.decide(address, kind, host, port);
                            boolean wasAllowed = was.allowed() && was.wouldRefuse() == null;
                            if (!wasAllowed) {
                                narrowed++;
                            }
                            assertThat(wasAllowed || shown.contains(role + " " + host + " " + port))
                                    .as("%s %s %s:%d is %s, but was %s and the log never showed role %s there\n%s",
                                            client, kind, host, port, now, was, role, where)
                                    .isTrue();
                        }
                    }
                }
            }
        }
        // The cases exercise learning, not only refusals: many grants exist only because the traffic showed them.
        assertThat(judged).isEqualTo(CASES * CLIENTS.length * HOSTS.length * PORTS.length * 3);
        assertThat(narrowed).isGreaterThan(CASES);
    }

    /** Listeners and mesh destinations: kept as they are, as a user keeps them when replacing the policy. */
    static String base(Random r) {
        StringBuilder y = new StringBuilder();
        y.append("http:\n  listen: \"127.0.0.1:8080\"\n  connectPorts: ").append(subset(r, CONNECT_PORTS)).append('\n');
        y.append("sni:\n  - listen: \"127.0.0.1:8443\"\n    upstreamPort: ").append(r.nextBoolean() ? 443 : 8443)
                .append('\n');
        y.append("admin: null\nmesh:\n  destinations:");
        if (r.nextInt(3) == 0) {
            y.append(" []\n");
        } else {
            y.append("\n    - hosts: [\"").append(PATTERNS[r.nextInt(PATTERNS.length - 1)]).append("\"]\n")
                    .append("      tls: [").append(r.nextBoolean() ? 443 : 10443).append("]\n");
        }
        return y.toString();
    }

    static String policy(Random r) {
        StringBuilder y = new StringBuilder("policy:\n");
        y.append("  mode: ").append(r.nextBoolean() ? "enforce" : "report").append('\n');
        y.append("  allow: ").append(allow(r)).append('\n');
        if (r.nextInt(3) == 0) {
            y.append("  deny: [\"").append(PATTERNS[r.nextInt(PATTERNS.length - 1)]).append("\"]\n");
        }
        y.append("  clients: ").append(r.nextBoolean() ? "[\"127.0.0.0/8\"]" : "[\"0.0.0.0/0\", \"::/0\"]")
                .append('\n');
        int roles = r.nextInt(3);
        if (roles > 0) {
            y.append("  roles:\n");
        }
        for (int i = 0; i < roles; i++) {
            y.append("    - name: ").append(ROLES[i + 1]).append('\n');
            y.append("      clients: [\"127.0.").append(i + 1).append(".0/24\"]\n");
            y.append("      mode: ").append(r.nextBoolean() ? "enforce" : "report").append('\n');
            y.append("      allow: ").append(allow(r)).append('\n');
            if (r.nextInt(3) == 0) {
                y.append("      deny: [\"").append(PATTERNS[r.nextInt(PATTERNS.length - 1)]).append("\"]\n");
            }
        }
        return y.toString();
    }

    /** An allow-list: empty, or a few patterns, some on any port and some limited to ports. */
    static String allow(Random r) {
        List<String> entries = new ArrayList<>();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            String pattern = PATTERNS[r.nextInt(PATTERNS.length)];
            entries.add(r.nextBoolean() ? "\"" + pattern + "\""
                    : "{host: \"" + pattern + "\", ports: " + subset(r, PORTS) + "}");
        }
        return "[" + String.join(", ", entries) + "]";
    }

    static List<String> traffic(Random r) {
        List<String> lines = new ArrayList<>();
        int n = r.nextInt(30);
        for (int i = 0; i < n; i++) {
            int what = r.nextInt(20);
            if (what == 0) {
                lines.add("not a line of the proxy");
                continue;
            }
            String kind = new String[] {"http", "connect", "sni"}[r.nextInt(3)];
            String decision = what < 4 ? "refused" : "allowed";
            String wouldRefuse = what == 4 ? ",\"wouldRefuse\":\"refused by policy.allow (x)\"" : "";
            lines.add("{\"time\":\"" + T + "\",\"listener\":\"http 127.0.0.1:8080\",\"client\":\"127.0.0.1:5555\","
                    + "\"role\":\"" + ROLES[r.nextInt(ROLES.length)] + "\",\"kind\":\"" + kind + "\",\"host\":\""
                    + HOSTS[r.nextInt(HOSTS.length - 1)] + "\",\"port\":" + PORTS[r.nextInt(PORTS.length)]
                    + ",\"decision\":\"" + decision + "\",\"reason\":\"x\"" + wouldRefuse + "}");
        }
        return lines;
    }

    static String subset(Random r, int[] values) {
        List<Integer> out = new ArrayList<>();
        for (int v : values) {
            if (r.nextBoolean()) {
                out.add(v);
            }
        }
        if (out.isEmpty()) {
            out.add(values[r.nextInt(values.length)]);
        }
        return out.toString();
    }
}
