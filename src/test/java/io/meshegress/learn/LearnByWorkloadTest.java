package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.AccessLogFormats;
import io.meshegress.policy.Workload;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code learn --by namespace|serviceAccount} over lines as the access-log writer formats them (its own JSON and
 * text functions, fed the entries a proxy logs), with the proposals written out by hand.
 */
class LearnByWorkloadTest {
    static final Instant T = Instant.parse("2026-12-01T10:00:00Z");

    static AccessEntry entry(String role, String kind, String host, int port, String decision, String wouldRefuse,
                             AccessEntry.Workload pod) {
        return new AccessEntry(T, "http 127.0.0.1:8080", "127.0.0.11:40000", null, role, kind, host, port,
                decision.equals("allowed") ? "192.0.2.1" : null, decision, "the \"reason\" given", wouldRefuse,
                decision.equals("allowed") ? 200 : 403, null, 1, 2, 3, pod);
    }

    static final AccessEntry.Workload PAY_API = new AccessEntry.Workload("payments", "api", "api-7d9f");
    static final AccessEntry.Workload PAY_BATCH = new AccessEntry.Workload("payments", "batch.jobs", "batch-1");
    static final AccessEntry.Workload DEFAULT_NS = new AccessEntry.Workload("default", "default", "tool-1");
    static final AccessEntry.Workload SEARCH = new AccessEntry.Workload("search", "web", "web-1");

    /** Both formats of one entry read back as the same connection, as the entry says it. */
    @Test
    void theJsonAndTheTextLineOfAnEntryAreTheSameConnection() {
        record Case(AccessEntry entry, LoggedConnection expected) {
        }
        List<Case> cases = List.of(
                new Case(entry("payments", "connect", "api.stripe.com", 443, "allowed",
                        "refused by policy.allow (\"api.stripe.com\" matches no allow pattern)", PAY_API),
                        new LoggedConnection(T, "payments", "connect", "api.stripe.com", 443, true,
                                "refused by policy.allow ('api.stripe.com' matches no allow pattern)", "payments",
                                "api")),
                new Case(new AccessEntry(T, "sni 127.0.0.1:8443", "127.0.0.12:5000", "10.0.0.1:7000", "search", "sni",
                        "evil.example.com", 443, null, "refused", "no", null, 403, "access_denied", 0, 0, 1, SEARCH),
                        new LoggedConnection(T, "search", "sni", "evil.example.com", 443, false, null, "search", "web")),
                new Case(entry("default", "http", "2001:db8::7", 8443, "allowed", null, null),
                        new LoggedConnection(T, "default", "http", "2001:db8::7", 8443, true, null, null, null)),
                new Case(entry("default", "http", null, 0, "refused", null, PAY_BATCH),
                        new LoggedConnection(T, "default", "http", null, 0, false, null, "payments", "batch.jobs")));
        for (Case c : cases) {
            String json = AccessLogFormats.json(c.entry());
            String text = AccessLogFormats.text(c.entry());
            assertThat(LoggedConnection.parse(json)).as(json).hasValue(withReasonOf(c.expected(), json));
            assertThat(LoggedConnection.parse(text)).as(text).hasValue(c.expected());
        }
        // A line the writer could not have written: a pod named by namespace alone, or by names no pod has.
        String text = AccessLogFormats.text(cases.get(0).entry());
        assertThat(LoggedConnection.parse(text.replace(" service-account=api", ""))).isEmpty();
        assertThat(LoggedConnection.parse(text.replace("namespace=payments", "namespace=Payments"))).isEmpty();
        assertThat(LoggedConnection.parse(text + " trailing")).isEmpty();
    }

    /** JSON keeps a reason's quotes where the text line turns them into apostrophes. */
    private static LoggedConnection withReasonOf(LoggedConnection c, String json) {
        return c.wouldRefuse() == null ? c : new LoggedConnection(c.time(), c.role(), c.kind(), c.host(), c.port(),
                c.allowed(), c.wouldRefuse().replace('\'', '"'), c.namespace(), c.serviceAccount());
    }

    static final String BASE = """
            http:
              listen: "127.0.0.1:8080"
              connectPorts: [443]
            admin: null
            identity:
              kubernetes: {}
            """;

    static final String OLD_POLICY = """
            policy:
              mode: report
              allow: []
              clients: ["0.0.0.0/0"]
              roles:
                - name: payments
                  workloads: [{namespace: payments, podSelector: {app: api}}]
                  allow: []
                - name: ci
                  clients: ["10.9.8.7/32"]
                  mode: enforce
                  allow: []
            """;

    static List<String> traffic(boolean text) {
        List<AccessEntry> entries = List.of(
                entry("payments", "connect", "api.stripe.com", 443, "allowed", "refused by policy.allow (x)", PAY_API),
                entry("default", "http", "files.example.com", 80, "allowed", "refused by policy.allow (x)", PAY_BATCH),
                entry("default", "http", "repo.example.org", 80, "allowed", "refused by policy.allow (x)", DEFAULT_NS),
                entry("default", "connect", "search.example.com", 443, "refused", null, SEARCH),
                entry("default", "http", "mirror.example.net", 80, "allowed", "refused by policy.allow (x)", null),
                entry("ci", "http", "ci.example.net", 443, "allowed", null, null));
        return entries.stream().map(e -> text ? AccessLogFormats.text(e) : AccessLogFormats.json(e)).toList();
    }

    static String learn(TrafficProfile.Grouping grouping, boolean text) throws Exception {
        return learn(OLD_POLICY, grouping, text);
    }

    static String learn(String oldPolicy, TrafficProfile.Grouping grouping, boolean text) throws Exception {
        EgressConfig old = ConfigLoader.parse("egress.yaml", BASE + oldPolicy);
        TrafficProfile profile = new TrafficProfile(null, grouping);
        List<String> lines = traffic(text);
        for (int i = 0; i < lines.size(); i++) {
            profile.add(lines.get(i), "access.log:" + (i + 1));
        }
        String out = ProposalYaml.render(old, "egress.yaml", profile, OptionalInt.empty(), 1);
        return out.substring(out.indexOf("policy:\n"));
    }

    @Test
    void byNamespaceOneRolePerNamespaceFirstTheConfigsRolesAfterNoPodsByTheirRole() throws Exception {
        String expected = """
                policy:
                  mode: enforce  # was report
                  allow:
                    - {host: "mirror.example.net", ports: [80]}  # 1 connection, 1 allowed only by report mode
                  clients: ["0.0.0.0/0"]
                  roles:
                    # One role per namespace that reached something; the roles of egress.yaml follow.
                    - name: "default-955361bb"  # namespace default
                      workloads: [{namespace: "default"}]
                      mode: enforce
                      allow:
                        - {host: "repo.example.org", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "payments-21a3c0de"  # namespace payments
                      workloads: [{namespace: "payments"}]
                      mode: enforce
                      allow:
                        - {host: "api.stripe.com", ports: [443]}  # 1 connection, 1 allowed only by report mode
                        - {host: "files.example.com", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "payments"
                      workloads: [{namespace: "payments", podSelector: {matchExpressions: [{key: "app", operator: In, values: ["api"]}]}}]
                      mode: enforce  # was report
                      allow: []  # no traffic: nothing allowed
                    - name: "ci"
                      clients: ["10.9.8.7/32"]
                      mode: enforce
                      allow:
                        - {host: "ci.example.net", ports: [443]}  # 1 connection
                """;
        assertThat(learn(TrafficProfile.Grouping.NAMESPACE, false)).isEqualTo(expected);
        assertThat(learn(TrafficProfile.Grouping.NAMESPACE, true)).isEqualTo(expected);

        // It loads, and each namespace's pods get their namespace's answers.
        RouteTable learned = new RouteTable(ConfigLoader.parse("learned.yaml", BASE + expected));
        assertThat(allowed(learned, pod("payments", "batch.jobs", Map.of()), "files.example.com", 80)).isTrue();
        assertThat(allowed(learned, pod("payments", "api", Map.of("app", "api")), "api.stripe.com", 443)).isTrue();
        assertThat(allowed(learned, pod("payments", "api", Map.of()), "repo.example.org", 80)).isFalse();
        assertThat(allowed(learned, pod("default", "default", Map.of()), "repo.example.org", 80)).isTrue();
        assertThat(allowed(learned, pod("default", "default", Map.of()), "files.example.com", 80)).isFalse();
        assertThat(allowed(learned, pod("search", "web", Map.of()), "search.example.com", 443)).isFalse();
        assertThat(allowed(learned, pod("search", "web", Map.of()), "mirror.example.net", 80))
                .as("a namespace that never reached anything falls to the default role").isTrue();
    }

    /**
     * Learning again from a file learned before: a role that selects exactly one group (its namespace, or its
     * namespace and service account, and nothing else) is that group's role, and keeps its name, deny list and
     * CONNECT ports; the same log gives the same roles.
     */
    @Test
    void aGroupsOwnRoleKeepsItsNameSoLearningTwiceGivesTheSameRoles() throws Exception {
        String once = learn(TrafficProfile.Grouping.NAMESPACE, true);
        String twice = learn(once.replace("policy:\n  mode: enforce  # was report\n", "policy:\n  mode: report\n"),
                TrafficProfile.Grouping.NAMESPACE, false);
        assertThat(twice).isEqualTo(once.replace("      mode: enforce  # was report\n", "      mode: enforce\n"));

        String own = """
                policy:
                  allow: []
                  roles:
                    - name: ci
                      clients: ["10.9.8.7/32"]
                      allow: []
                    - name: pay
                      workloads: [{namespace: payments, serviceAccount: api}]
                      mode: report
                      deny: ["*.evil.example"]
                      connectPorts: [443]
                      allow: []
                """;
        assertThat(learn(own, TrafficProfile.Grouping.SERVICE_ACCOUNT, false)).contains("""
                    # One role per namespace and service account that reached something; the roles of egress.yaml follow.
                    - name: "default-default"  # namespace default, service account default
                      workloads: [{namespace: "default", serviceAccount: "default"}]
                      mode: enforce
                      allow:
                        - {host: "repo.example.org", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "pay"  # namespace payments, service account api
                      workloads: [{namespace: "payments", serviceAccount: "api"}]
                      mode: enforce  # was report
                      allow:
                        - {host: "api.stripe.com", ports: [443]}  # 1 connection, 1 allowed only by report mode
                      deny: ["*.evil.example"]
                      connectPorts: [443]
                    - name: "payments-batch-jobs"  # namespace payments, service account batch.jobs
                      workloads: [{namespace: "payments", serviceAccount: "batch.jobs"}]
                      mode: enforce
                      allow:
                        - {host: "files.example.com", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "ci"
                """);
    }

    @Test
    void byServiceAccountOneRolePerNamespaceAndServiceAccount() throws Exception {
        String learned = learn(TrafficProfile.Grouping.SERVICE_ACCOUNT, true);
        assertThat(learned).contains("""
                    # One role per namespace and service account that reached something; the roles of egress.yaml follow.
                    - name: "default-default"  # namespace default, service account default
                      workloads: [{namespace: "default", serviceAccount: "default"}]
                      mode: enforce
                      allow:
                        - {host: "repo.example.org", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "payments-api"  # namespace payments, service account api
                      workloads: [{namespace: "payments", serviceAccount: "api"}]
                      mode: enforce
                      allow:
                        - {host: "api.stripe.com", ports: [443]}  # 1 connection, 1 allowed only by report mode
                    - name: "payments-batch-jobs"  # namespace payments, service account batch.jobs
                      workloads: [{namespace: "payments", serviceAccount: "batch.jobs"}]
                      mode: enforce
                      allow:
                        - {host: "files.example.com", ports: [80]}  # 1 connection, 1 allowed only by report mode
                    - name: "payments"
                """);
        RouteTable routes = new RouteTable(ConfigLoader.parse("learned.yaml", BASE + learned));
        assertThat(allowed(routes, pod("payments", "batch.jobs", Map.of()), "files.example.com", 80)).isTrue();
        assertThat(allowed(routes, pod("payments", "api", Map.of()), "files.example.com", 80))
                .as("another service account of the same namespace").isFalse();
    }

    /** The names: a namespace's, a service account's dots as dashes, and a hash where the plain name is taken. */
    @Test
    void roleNamesAreLabelsAndUnique() {
        var names = GroupRoleNames.names(List.of(new TrafficProfile.WorkloadGroup("a-b", "c"),
                new TrafficProfile.WorkloadGroup("a", "b-c"), new TrafficProfile.WorkloadGroup("x", null),
                new TrafficProfile.WorkloadGroup("n".repeat(63), "sa.one"),
                new TrafficProfile.WorkloadGroup("default", null)), Set.of("x"));
        assertThat(names.values()).containsExactly("a-b-c", "a-b-c-b88f83c8", "x-361757e6",
                "n".repeat(54) + "-" + sha8("n".repeat(63) + "/sa.one"), "default-955361bb");
    }

    private static String sha8(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The caps hold over all groups together: many namespaces of one host each keep no more than one role would. */
    @Test
    void theHostCapHoldsAcrossGroups() {
        TrafficProfile p = new TrafficProfile(null, TrafficProfile.Grouping.SERVICE_ACCOUNT);
        int extra = 5;
        for (int i = 0; i < TrafficProfile.MAX_HOSTS + extra; i++) {
            AccessEntry.Workload w = new AccessEntry.Workload("ns" + i % 1000, "sa" + i % 7, "p");
            p.add(AccessLogFormats.json(entry("default", "http", "h" + i + ".example.com", 80, "allowed", null, w)),
                    "log:" + (i + 1));
        }
        long kept = p.byWorkload().values().stream().mapToLong(Map::size).sum();
        assertThat(kept).isEqualTo(TrafficProfile.MAX_HOSTS);
        assertThat(p.droppedConnections()).isEqualTo(extra);
    }

    static Workload pod(String namespace, String serviceAccount, Map<String, String> labels) {
        return new Workload(namespace, "p-1", serviceAccount, labels, Map.of());
    }

    static boolean allowed(RouteTable routes, Workload w, String host, int port) {
        var role = routes.role(null, new io.meshegress.identity.ClientIdentity.Pod(w));
        return routes.decide(role, Destination.Kind.HTTP, host, port).allowed();
    }
}
