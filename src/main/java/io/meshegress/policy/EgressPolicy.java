package io.meshegress.policy;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.List;

/**
 * The one policy every listener applies: names (allow/deny patterns with their ports), client addresses,
 * and destination addresses after resolution (denyNetworks). Immutable; built once per config.
 */
public final class EgressPolicy {
    private final HostMatcher<String> deny = new HostMatcher<>();
    private final List<Cidr> denyNetworks;
    private final List<Cidr> clients;
    private final List<Role> roles;
    private final Role defaultRole;
    private final RoleIndex roleIndex;

    /**
     * Hosts the mesh sends to the proxy and the ports it sends them on ({@code mesh.destinations[i]}): such a
     * host is allowed on those ports only.
     */
    public record DestinationRule(List<HostPattern> hosts, List<Integer> ports) {
        public DestinationRule {
            hosts = List.copyOf(hosts);
            ports = List.copyOf(ports);
        }
    }

    /** One policy, without roles, in enforce mode (for the tests and benchmarks of names and addresses). */
    public EgressPolicy(List<HostPattern> allowPatterns, List<HostPattern> denyPatterns, List<Cidr> denyNetworks,
                        List<Cidr> clients, List<DestinationRule> destinations) {
        this(denyPatterns, denyNetworks, clients, Role.byDefault(allowPatterns.stream().map(AllowEntry::anyPort)
                        .toList(), destinations, PolicyMode.ENFORCE),
                List.of());
    }

    /**
     * Built from plain values (the config package adapts its model), so policy knows nothing of config.
     *
     * @param denyPatterns policy.deny: refuses for every role, in every mode
     * @param roles        the named roles in order; the first whose clients hold a client is its role
     */
    public EgressPolicy(List<HostPattern> denyPatterns, List<Cidr> denyNetworks, List<Cidr> clients,
                        Role defaultRole, List<Role> roles) {
        for (int i = 0; i < denyPatterns.size(); i++) {
            deny.add(denyPatterns.get(i), "policy.deny[" + i + "] \"" + denyPatterns.get(i) + "\"");
        }
        this.denyNetworks = List.copyOf(denyNetworks);
        this.clients = List.copyOf(clients);
        this.defaultRole = defaultRole;
        this.roles = List.copyOf(roles);
        this.roleIndex = new RoleIndex(this.roles);
    }

    /**
     * Whether a client at this address may use the proxy at all: only a client in one of {@code clients} (an empty
     * list admits nobody; any client is {@code 0.0.0.0/0} and {@code ::/0}, written out).
     */
    public Decision checkClient(InetAddress client) {
        for (Cidr c : clients) {
            if (c.contains(client)) {
                return Decision.allow("policy.clients \"" + c + "\"");
            }
        }
        return Decision.refuse("policy.clients (client " + client.getHostAddress() + " is in none of them)");
    }

    /** The role of a client known by its address only: {@link #role(InetAddress, Workload)} with no workload. */
    public Role role(InetAddress client) {
        return role(client, null);
    }

    /**
     * The role of a client: the first named role whose clients hold its address or whose workloads select its
     * workload (null: the address is no known pod), else the default role.
     */
    public Role role(InetAddress client, Workload workload) {
        int first = roleIndex.first(client, workload);
        return first == RoleIndex.NONE ? defaultRole : roles.get(first);
    }

    /** Why {@code client} has the role it has, in the config's words. */
    public String roleReason(InetAddress client) {
        return roleReason(client, null);
    }

    /** Why a client at this address, with this workload (or null), has the role it has, in the config's words. */
    public String roleReason(InetAddress client, Workload workload) {
        Role r = role(client, workload);
        if (r == defaultRole) {
            return "no policy.roles entry holds it";
        }
        if (client != null && r.holding(client).isPresent()) {
            return r.path() + ".clients \"" + r.holding(client).orElseThrow() + "\"";
        }
        // A workload asked about (check --workload) has no pod name: its namespace says enough.
        return r.path() + ".workloads[" + r.selecting(workload) + "] (" + (workload.pod() == null
                ? "namespace " + workload.namespace() : "pod " + workload) + ", service account "
                + workload.serviceAccount() + ")";
    }

    /**
     * The role a verified credential selects: the first named role with a {@code workloads} entry for its user or
     * service account; empty when none does (the request keeps the role of its address or pod).
     */
    public java.util.Optional<Role> role(Principal principal) {
        for (Role r : roles) {
            if (r.selecting(principal) >= 0) {
                return java.util.Optional.of(r);
            }
        }
        return java.util.Optional.empty();
    }

    /** Why a verified credential selects the role it selects, in the config's words (empty: none selects it). */
    public java.util.Optional<String> roleReason(Principal principal) {
        return role(principal).map(r -> r.path() + ".workloads[" + r.selecting(principal) + "] ("
                + (principal instanceof Principal.User u ? "user " + u.name()
                : "service account " + principal.logName()) + ")");
    }

    /** Whether some named role holds this address by its clients (a client that needs no pod to have a role). */
    public boolean holdsByAddress(InetAddress client) {
        return roleIndex.firstHolding(client) != RoleIndex.NONE;
    }

    public Role defaultRole() {
        return defaultRole;
    }

    public List<Role> roles() {
        return roles;
    }

    /** Whether a normalized host name (or IP literal) may be reached on this port by the default role. */
    public Decision checkName(String host, int port) {
        return checkName(defaultRole, host, port);
    }

    /**
     * Whether a normalized host name (or IP literal) may be reached on this port by a client of {@code role}:
     * policy.deny first (it wins for every role), then the role's own deny and allow.
     */
    public Decision checkName(Role role, String host, int port) {
        Decision global = globalDeny(host);
        return global != null ? global : role.checkName(host, port);
    }

    /** The refusal by policy.deny, or null: the one name rule that report mode never relaxes. */
    public Decision globalDeny(String host) {
        List<String> denied = deny.matches(host);
        return denied.isEmpty() ? null : Decision.refuse(denied.get(0));
    }

    /**
     * The mesh destination that lists this port for this host, if any: such a port is open to CONNECT even
     * when it is not one of {@code http.connectPorts}.
     */
    public java.util.Optional<String> destinationListingPort(Role role, String host, int port) {
        if (!deny.matches(host).isEmpty()) {
            return java.util.Optional.empty();
        }
        return role.destinationListingPort(host, port);
    }

    /**
     * Whether a resolved destination address may be connected to. An IPv6 address that carries an IPv4 one
     * (mapped, NAT64, 6to4, Teredo, IPv4-compatible: {@link EmbeddedIpv4}) is judged as that IPv4 address first,
     * so an IPv4 rule cannot be walked around through a translator; then as itself.
     */
    public Decision checkAddress(InetAddress address) {
        for (EmbeddedIpv4.Embedded e : EmbeddedIpv4.of(address)) {
            int i = deniedBy(e.address());
            if (i >= 0) {
                return Decision.refuse("policy.denyNetworks[" + i + "] \"" + denyNetworks.get(i) + "\" ("
                        + NetUtil.toAddressString(address) + " is " + e.form() + " for " + e.address().getHostAddress() + ")");
            }
        }
        int i = deniedBy(address);
        if (i >= 0) {
            return Decision.refuse("policy.denyNetworks[" + i + "] \"" + denyNetworks.get(i) + "\"");
        }
        return Decision.allow("policy.denyNetworks (no match)");
    }

    private int deniedBy(InetAddress address) {
        for (int i = 0; i < denyNetworks.size(); i++) {
            if (denyNetworks.get(i).contains(address)) {
                return i;
            }
        }
        return -1;
    }
}
