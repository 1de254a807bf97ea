package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.identity.ClientIdentity;
import io.meshegress.policy.Role;
import io.meshegress.policy.Workload;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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

    static final String[] NAMESPACES = {"alpha", "beta", "default", "payments"};
    static final String[] SERVICE_ACCOUNTS = {"default", "api", "jobs.batch"};

    /**
     * With {@code --by namespace} or {@code --by serviceAccount}: a pod of a group the log showed may reach only
     * what its group was seen reaching; a pod of any other group keeps its old role and, as ever, gains nothing the
     * old file refused and that role's logged clients did not reach. Roles select by CIDR or by workloads.
     */
    @Test
    void byWorkloadGroupAPodGainsNothingItsGroupDidNotShow() throws Exception {
        Random random = new Random(SEED + 1);
        int judged = 0;
        int grouped = 0;
        for (int c = 0; c < CASES; c++) {
            String base = base(random) + "identity:\n  kubernetes: {}\n";
            String oldText = base + withWorkloadRoles(random, policy(random));
            EgressConfig old = ConfigLoader.parse("old.yaml", oldText);
            TrafficProfile.Grouping grouping = random.nextBoolean() ? TrafficProfile.Grouping.NAMESPACE
                    : TrafficProfile.Grouping.SERVICE_ACCOUNT;
            List<String> log = new ArrayList<>();
            for (String line : traffic(random)) {
                log.add(random.nextInt(3) == 0 || !line.startsWith("{") ? line : line.replace(",\"kind\"",
                        ",\"namespace\":\"" + NAMESPACES[random.nextInt(NAMESPACES.length)] + "\",\"serviceAccount\":\""
                                + SERVICE_ACCOUNTS[random.nextInt(SERVICE_ACCOUNTS.length)] + "\",\"kind\""));
            }
            Set<String> shown = new HashSet<>();
            TrafficProfile profile = new TrafficProfile(null, grouping);
            for (int i = 0; i < log.size(); i++) {
                profile.add(log.get(i), "log:" + (i + 1));
                LoggedConnection.parse(log.get(i)).filter(l -> l.allowed() && l.host() != null).ifPresent(l ->
                        shown.add((l.namespace() == null ? "role " + l.role() : group(grouping, l.namespace(),
                                l.serviceAccount())) + " " + l.host() + " " + l.port()));
            }
            String learnedText = base + ProposalYaml.render(old, "old.yaml", profile, OptionalInt.empty(), 1);
            String where = "case " + c + " (seed " + (SEED + 1) + ", " + grouping + ")\n--- old\n" + oldText
                    + "--- log\n" + String.join("\n", log) + "\n--- learned\n" + learnedText;
            RouteTable before = new RouteTable(old);
            RouteTable after = new RouteTable(ConfigLoader.parse("learned.yaml", learnedText));
            for (String ns : NAMESPACES) {
                for (String sa : SERVICE_ACCOUNTS) {
                    for (Map<String, String> labels : List.of(Map.of("app", "api"), Map.<String, String>of())) {
                        ClientIdentity pod = new ClientIdentity.Pod(new Workload(ns, "p", sa, labels, Map.of()));
                        String group = group(grouping, ns, sa);
                        boolean seen = shown.stream().anyMatch(s -> s.startsWith(group + " "));
                        Role oldRole = before.role(null, pod);
                        Role newRole = after.role(null, pod);
                        if (!seen) {
                            assertThat(newRole.name()).as(where).isEqualTo(oldRole.name());
                        } else {
                            grouped++;
                        }
                        for (String host : HOSTS) {
                            for (int port : PORTS) {
                                for (Destination.Kind kind : Destination.Kind.values()) {
                                    judged++;
                                    RouteTable.Verdict now = after.decide(newRole, kind, host, port);
                                    if (!now.allowed()) {
                                        continue;
                                    }
                                    RouteTable.Verdict was = before.decide(oldRole, kind, host, port);
                                    boolean ok = seen ? shown.contains(group + " " + host + " " + port)
                                            : (was.allowed() && was.wouldRefuse() == null)
                                            || shown.contains("role " + oldRole.name() + " " + host + " " + port);
                                    assertThat(ok).as("pod %s/%s %s %s %s:%d is %s, was %s\n%s", ns, sa, labels,
                                            kind, host, port, now, was, where).isTrue();
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(judged).isEqualTo(CASES * NAMESPACES.length * SERVICE_ACCOUNTS.length * 2 * HOSTS.length
                * PORTS.length * 3);
        assertThat(grouped).isGreaterThan(CASES);
    }

    static String group(TrafficProfile.Grouping grouping, String namespace, String serviceAccount) {
        return "group " + namespace + (grouping == TrafficProfile.Grouping.SERVICE_ACCOUNT ? "/" + serviceAccount : "");
    }

    /** Some of a policy's roles select workloads instead of (or beside) their CIDR. */
    static String withWorkloadRoles(Random r, String policy) {
        String out = policy;
        for (int i = 1; i <= 2; i++) {
            String clients = "      clients: [\"127.0." + i + ".0/24\"]\n";
            String workloads = "      workloads: [{namespace: " + NAMESPACES[r.nextInt(NAMESPACES.length)]
                    + (r.nextBoolean() ? ", serviceAccount: " + SERVICE_ACCOUNTS[r.nextInt(SERVICE_ACCOUNTS.length)]
                    : "") + (r.nextBoolean() ? ", podSelector: {app: api}" : "") + "}]\n";
            out = switch (r.nextInt(3)) {
                case 0 -> out.replace(clients, workloads);
                case 1 -> out.replace(clients, clients + workloads);
                default -> out;
            };
        }
        return out;
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
