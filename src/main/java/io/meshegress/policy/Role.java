package io.meshegress.policy;

import java.util.List;
import java.util.Optional;

/**
 * The name and port rules one group of clients lives by: its own allow-list (and deny-list), its mode, and
 * optionally narrower CONNECT ports. The default role serves every client that matches no named role; it is
 * {@code policy.allow} plus the hosts and ports of {@code mesh.destinations}. Immutable.
 */
public final class Role {
    public static final String DEFAULT = "default";

    /**
     * One allow entry: where it came from, the ports it allows the name on (null: any port), and whether it
     * opens those ports to CONNECT too (a mesh destination does: the mesh sends its ports to the proxy).
     */
    private record AllowRule(String origin, List<Integer> ports, ConnectPorts connect) {
    }

    /** What an allow rule's ports mean for a CONNECT. */
    private enum ConnectPorts { OPENED, UNCHANGED }

    private final String name;
    private final String path;
    private final List<Cidr> clients;
    private final List<WorkloadSelector> workloads;
    private final HostMatcher<AllowRule> allow = new HostMatcher<>();
    private final HostMatcher<String> deny = new HostMatcher<>();
    private final PolicyMode mode;
    private final List<Integer> connectPorts;

    private Role(String name, String path, List<Cidr> clients, List<WorkloadSelector> workloads, PolicyMode mode,
                 List<Integer> connectPorts, List<AllowEntry> allowPatterns, List<HostPattern> denyPatterns,
                 List<EgressPolicy.DestinationRule> destinations) {
        this.name = name;
        this.path = path;
        this.clients = List.copyOf(clients);
        this.workloads = List.copyOf(workloads);
        this.mode = mode;
        this.connectPorts = connectPorts == null ? null : List.copyOf(connectPorts);
        for (int i = 0; i < allowPatterns.size(); i++) {
            AllowEntry e = allowPatterns.get(i);
            allow.add(e.host(), new AllowRule(path + ".allow[" + i + "] \"" + e.host() + "\""
                    + e.ports().map(p -> " ports " + p).orElse(""), e.ports().orElse(null), ConnectPorts.UNCHANGED));
        }
        for (int i = 0; i < destinations.size(); i++) {
            for (HostPattern p : destinations.get(i).hosts()) {
                allow.add(p, new AllowRule("mesh.destinations[" + i + "] \"" + p + "\"", destinations.get(i).ports(),
                        ConnectPorts.OPENED));
            }
        }
        for (int i = 0; i < denyPatterns.size(); i++) {
            deny.add(denyPatterns.get(i), path + ".deny[" + i + "] \"" + denyPatterns.get(i) + "\"");
        }
    }

    /**
     * The default role: policy.allow and mesh.destinations. Both empty allow nothing (deny by default); every
     * host is {@code allow: ["*"]}, written out.
     */
    public static Role byDefault(List<AllowEntry> allow, List<EgressPolicy.DestinationRule> destinations,
                                 PolicyMode mode) {
        return new Role(DEFAULT, "policy", List.of(), List.of(), mode, null, allow, List.of(), destinations);
    }

    /**
     * The role at {@code policy.roles[index]}. Its allow-list is its own: an empty one allows nothing (so a new
     * role in report mode logs everything its clients reach), and mesh.destinations do not widen it.
     *
     * @param connectPorts the CONNECT ports of its clients, or null for http.connectPorts
     */
    public static Role named(int index, String name, List<Cidr> clients, List<AllowEntry> allow,
                             List<HostPattern> deny, PolicyMode mode, List<Integer> connectPorts) {
        return named(index, name, clients, List.of(), allow, deny, mode, connectPorts);
    }

    /** {@link #named(int, String, List, List, List, PolicyMode, List)} with the workloads it selects too. */
    public static Role named(int index, String name, List<Cidr> clients, List<WorkloadSelector> workloads,
                             List<AllowEntry> allow, List<HostPattern> deny, PolicyMode mode,
                             List<Integer> connectPorts) {
        return new Role(name, "policy.roles[" + index + "]", clients, workloads, mode, connectPorts, allow, deny,
                List.of());
    }

    public String name() {
        return name;
    }

    /** Where it is written: {@code policy} for the default role, {@code policy.roles[i]} for a named one. */
    public String path() {
        return path;
    }

    public List<Cidr> clients() {
        return clients;
    }

    public PolicyMode mode() {
        return mode;
    }

    /** The role's CONNECT ports, if it narrows http.connectPorts. */
    public Optional<List<Integer>> connectPorts() {
        return Optional.ofNullable(connectPorts);
    }

    public List<WorkloadSelector> workloads() {
        return workloads;
    }

    /** The index of the first {@code workloads} entry that selects {@code workload}, or -1 (null: none does). */
    int selecting(Workload workload) {
        if (workload != null) {
            for (int i = 0; i < workloads.size(); i++) {
                if (workloads.get(i).matches(workload)) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** The index of the first {@code workloads} entry that selects a verified credential's principal, or -1. */
    int selecting(Principal principal) {
        for (int i = 0; i < workloads.size(); i++) {
            if (workloads.get(i).matches(principal)) {
                return i;
            }
        }
        return -1;
    }

    /** The client CIDR of this role that holds {@code client}, if any. */
    Optional<Cidr> holding(java.net.InetAddress client) {
        for (Cidr c : clients) {
            if (c.contains(client)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** The role's own name rules; policy.deny is the caller's to ask first (EgressPolicy, RouteTable). */
    public Decision checkName(String host, int port) {
        List<String> denied = deny.matches(host);
        if (!denied.isEmpty()) {
            return Decision.refuse(denied.get(0));
        }
        if (allow.isEmpty() && name.equals(DEFAULT)) {
            return Decision.refuse("policy.allow (empty, and no mesh.destinations: no host)");
        }
        List<AllowRule> rules = allow.matches(host);
        if (rules.isEmpty()) {
            return Decision.refuse(path + ".allow (" + host + (name.equals(DEFAULT)
                    ? " matches no allow pattern or mesh destination)" : " matches no allow pattern of role " + name + ")"));
        }
        for (AllowRule r : rules) {
            if (r.ports() == null || r.ports().contains(port)) {
                return Decision.allow(r.origin());
            }
        }
        return Decision.refuse(rules.get(0).origin() + " (port " + port + " is not one of its ports "
                + rules.get(0).ports() + ")");
    }

    /** The mesh destination of this role that lists this port for this host, if any (policy.deny aside). */
    public Optional<String> destinationListingPort(String host, int port) {
        if (!deny.matches(host).isEmpty()) {
            return Optional.empty();
        }
        for (AllowRule r : allow.matches(host)) {
            if (r.connect() == ConnectPorts.OPENED && r.ports().contains(port)) {
                return Optional.of(r.origin());
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return name;
    }
}
