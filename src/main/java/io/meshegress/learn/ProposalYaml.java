package io.meshegress.learn;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Cidr;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.Role;
import io.meshegress.policy.HostPattern;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes the learned allow-lists as a {@code policy:} section that replaces the config's: the config's global
 * rules and roles (clients, deny, connectPorts) as they are, each role's allow-list as learned, every mode set
 * to enforce. Every entry names the ports it was reached on ({@code {host: H, ports: [P]}}), so the file with it
 * pasted in allows no host on a port the traffic did not show, whatever the listener kind; it opens no CONNECT
 * port either (those stay as the config has them). The result is valid config, and {@code check} accepts it.
 * With a grouping of pods ({@code --by namespace}, {@code --by serviceAccount}), one role per workload group comes
 * first, named by {@link GroupRoleNames}, selecting its group by {@code workloads} alone and allowing what that
 * group reached; the config's roles follow, each learned from the lines of clients that were no known pod.
 */
public final class ProposalYaml {

    private ProposalYaml() {
    }

    /** @param collapseAbove empty: every name exactly as seen */
    public static String render(EgressConfig config, String configName, TrafficProfile profile,
                                OptionalInt collapseAbove, long minCount) {
        StringBuilder y = new StringBuilder();
        // One comment line whatever a file name holds.
        y.append("# mesh-egress learn: ").append(oneLine(profile.summary())).append(".\n");
        y.append("# Replace the policy section of ").append(oneLine(configName)).append(" with this, review every entry, ")
                .append("then `mesh-egress check -c FILE`.\n");
        Map<String, TreeMap<String, TrafficProfile.HostUse>> seen = profile.byRole();
        EgressConfig.Policy p = config.policy();
        EgressPolicy rules = config.egressPolicy();
        y.append("policy:\n");
        y.append("  mode: enforce").append(p.mode() == io.meshegress.policy.PolicyMode.REPORT ? "  # was report" : "")
                .append('\n');
        appendAllow(y, "  ", seen.get("default"), collapseAbove, minCount);
        List<Integer> listenerPorts = config.http() == null ? List.of() : config.http().connectPorts();
        appendPortWarnings(y, "  ", seen.get("default"), rules.defaultRole(), listenerPorts, "http.connectPorts");
        appendPatterns(y, "  ", "deny", p.deny());
        if (!sameCidrs(p.denyNetworks(), ConfigLoader.DEFAULT_DENY_NETWORKS)) {
            y.append("  denyNetworks: ").append(cidrs(p.denyNetworks())).append('\n');
        }
        if (!p.clients().isEmpty()) {
            y.append("  clients: ").append(cidrs(p.clients())).append('\n');
        }
        Set<String> unknown = new TreeSet<>(seen.keySet());
        unknown.remove("default");
        // A group that has a role of its own in the config (one learned before) keeps it: its name, deny and
        // CONNECT ports, in the group's place; learning twice gives the same roles.
        Map<TrafficProfile.WorkloadGroup, EgressConfig.Role> own = new java.util.HashMap<>();
        for (TrafficProfile.WorkloadGroup g : profile.byWorkload().keySet()) {
            p.roles().stream().filter(r -> selectsExactly(r, g)).findFirst().ifPresent(r -> own.put(g, r));
        }
        Map<TrafficProfile.WorkloadGroup, String> named = GroupRoleNames.names(profile.byWorkload().keySet().stream()
                .filter(g -> !own.containsKey(g)).toList(), new TreeSet<>(p.roles().stream()
                .map(EgressConfig.Role::name).toList()));
        Map<TrafficProfile.WorkloadGroup, String> groupNames = new java.util.LinkedHashMap<>();
        for (TrafficProfile.WorkloadGroup g : profile.byWorkload().keySet()) {
            groupNames.put(g, own.containsKey(g) ? own.get(g).name() : named.get(g));
        }
        if (!p.roles().isEmpty() || !groupNames.isEmpty()) {
            y.append("  roles:\n");
        }
        if (!groupNames.isEmpty()) {
            // First: a pod belongs to the first role that selects it, and each group's role allows no more than
            // the group was seen reaching.
            y.append("    # One role per ").append(profile.grouping() == TrafficProfile.Grouping.NAMESPACE
                    ? "namespace" : "namespace and service account").append(" that reached something")
                    .append(own.size() == p.roles().size() ? "" : "; the roles of " + oneLine(configName) + " follow")
                    .append(".\n");
        }
        for (Map.Entry<TrafficProfile.WorkloadGroup, String> g : groupNames.entrySet()) {
            TrafficProfile.WorkloadGroup group = g.getKey();
            y.append("    - name: ").append(WorkloadYaml.quoted(g.getValue())).append("  # ").append(group)
                    .append('\n');
            y.append("      workloads: [{namespace: ").append(WorkloadYaml.quoted(group.namespace()))
                    .append(group.serviceAccount() == null ? ""
                            : ", serviceAccount: " + WorkloadYaml.quoted(group.serviceAccount())).append("}]\n");
            EgressConfig.Role was = own.get(group);
            y.append("      mode: enforce").append(was != null && was.mode() == io.meshegress.policy.PolicyMode.REPORT
                    ? "  # was report" : "").append('\n');
            appendAllow(y, "      ", profile.byWorkload().get(group), collapseAbove, minCount);
            List<Integer> ports = was != null && was.connectPorts() != null ? was.connectPorts() : listenerPorts;
            appendPortWarnings(y, "      ", profile.byWorkload().get(group), null, ports,
                    ports == listenerPorts ? "http.connectPorts" : "connectPorts");
            if (was != null) {
                unknown.remove(was.name());
                appendPatterns(y, "      ", "deny", was.deny());
                if (was.connectPorts() != null) {
                    y.append("      connectPorts: ").append(was.connectPorts()).append('\n');
                }
            }
        }
        for (EgressConfig.Role r : p.roles()) {
            unknown.remove(r.name());
            if (own.containsValue(r)) {
                continue;
            }
            y.append("    - name: ").append(WorkloadYaml.quoted(r.name())).append('\n');
            if (!r.clients().isEmpty()) {
                y.append("      clients: ").append(cidrs(r.clients())).append('\n');
            }
            if (!r.workloads().isEmpty()) {
                y.append("      workloads: ").append(WorkloadYaml.entries(r.workloads())).append('\n');
            }
            y.append("      mode: enforce").append(r.mode() == io.meshegress.policy.PolicyMode.REPORT
                    ? "  # was report" : "").append('\n');
            appendAllow(y, "      ", seen.get(r.name()), collapseAbove, minCount);
            appendPortWarnings(y, "      ", seen.get(r.name()), rules.roles().get(p.roles().indexOf(r)),
                    r.connectPorts() != null ? r.connectPorts()
                    : listenerPorts, r.connectPorts() != null ? "policy.roles[" + p.roles().indexOf(r)
                    + "].connectPorts" : "http.connectPorts");
            appendPatterns(y, "      ", "deny", r.deny());
            if (r.connectPorts() != null) {
                y.append("      connectPorts: ").append(r.connectPorts()).append('\n');
            }
        }
        for (String role : unknown) {
            // Not in the config (a log from another config?): its hosts are shown, but no role can be written
            // without its clients.
            y.append("# role ").append(role).append(" is in the logs but not in ").append(configName)
                    .append("; it reached:\n");
            for (AllowListProposal.Entry e : AllowListProposal.propose(seen.get(role), collapseAbove, minCount)) {
                y.append("#   ").append(e.pattern()).append(" ports ").append(e.ports()).append("  (")
                        .append(e.evidence()).append(")\n");
            }
        }
        return y.toString();
    }

    private static void appendAllow(StringBuilder y, String indent, TreeMap<String, TrafficProfile.HostUse> hosts,
                                    OptionalInt collapseAbove, long minCount) {
        List<AllowListProposal.Entry> entries = hosts == null ? List.of()
                : AllowListProposal.propose(hosts, collapseAbove, minCount);
        long dropped = hosts == null ? 0 : AllowListProposal.belowMinCount(hosts, minCount);
        String left = dropped == 0 ? "" : "  # " + dropped + (dropped == 1 ? " host" : " hosts") + " seen fewer than "
                + minCount + " times left out";
        if (entries.isEmpty()) {
            y.append(indent).append("allow: []  # no traffic: nothing allowed").append(left.replace("  #", ";"))
                    .append('\n');
            return;
        }
        y.append(indent).append("allow:").append(left).append('\n');
        for (AllowListProposal.Entry e : entries) {
            y.append(indent).append("  - {host: \"").append(e.pattern()).append("\", ports: ").append(e.ports())
                    .append("}  # ").append(e.evidence()).append('\n');
        }
    }

    /**
     * A CONNECT that report mode let through (a learned group's role, {@code role} null, opens no port of a mesh
     * destination) to a port outside the CONNECT ports: an allow entry cannot open a
     * port, so enforce would still refuse it. Said, not silently left to surprise.
     */
    private static void appendPortWarnings(StringBuilder y, String indent, TreeMap<String, TrafficProfile.HostUse> hosts,
                                           Role role, List<Integer> allowed, String rule) {
        if (hosts == null) {
            return;
        }
        for (var e : hosts.entrySet()) {
            for (int port : e.getValue().connectPorts) {
                if (!allowed.contains(port) && (role == null || role.destinationListingPort(e.getKey(), port).isEmpty())) {
                    y.append(indent).append("# CONNECT ").append(e.getKey()).append(':').append(port)
                            .append(" was seen, but port ").append(port).append(" is not in ").append(rule).append(' ')
                            .append(allowed).append(": enforce refuses it unless you add the port there (or a "
                                    + "mesh destination lists it)\n");
                }
            }
        }
    }

    private static void appendPatterns(StringBuilder y, String indent, String key, List<HostPattern> patterns) {
        if (!patterns.isEmpty()) {
            y.append(indent).append(key).append(": [").append(String.join(", ",
                    patterns.stream().map(p -> "\"" + p + "\"").toList())).append("]\n");
        }
    }

    /**
     * Whether a role of the config is the one learn would write for this group: it selects the group's pods by one
     * workloads entry, namespace (and service account) alone, and holds no clients by address.
     */
    private static boolean selectsExactly(EgressConfig.Role r, TrafficProfile.WorkloadGroup g) {
        if (!r.clients().isEmpty() || r.workloads().size() != 1) {
            return false;
        }
        io.meshegress.policy.WorkloadSelector w = r.workloads().get(0);
        return g.namespace().equals(w.namespace()) && java.util.Objects.equals(g.serviceAccount(), w.serviceAccount())
                && w.podSelector().requirements().isEmpty();
    }

    /** One comment line whatever a file name holds. */
    private static String oneLine(String text) {
        return text.replaceAll("[\\r\\n\\u2028\\u2029\\u0085]", " ");
    }

    private static String cidrs(List<Cidr> list) {
        return "[" + String.join(", ", list.stream().map(c -> "\"" + c + "\"").toList()) + "]";
    }

    private static boolean sameCidrs(List<Cidr> list, List<String> texts) {
        return list.stream().map(Cidr::toString).toList().equals(texts);
    }
}
