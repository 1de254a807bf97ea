package io.meshegress.policy;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.List;

/**
 * The one policy every listener applies: names (allow/deny patterns with their ports), client addresses,
 * and destination addresses after resolution (denyNetworks). Immutable; built once per config.
 */
public final class EgressPolicy {

    /** One allow entry: where it came from, and the ports it opens (null: any port). */
    private record AllowRule(String origin, List<Integer> ports) {
    }

    private final HostMatcher<AllowRule> allow = new HostMatcher<>();
    private final HostMatcher<String> deny = new HostMatcher<>();
    private final List<Cidr> denyNetworks;
    private final List<Cidr> clients;
    private final boolean allowAll;

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

    /** Built from plain values (the config package adapts its model), so policy knows nothing of config. */
    public EgressPolicy(List<HostPattern> allowPatterns, List<HostPattern> denyPatterns, List<Cidr> denyNetworks,
                        List<Cidr> clients, List<DestinationRule> destinations) {
        for (int i = 0; i < allowPatterns.size(); i++) {
            HostPattern p = allowPatterns.get(i);
            allow.add(p, new AllowRule("policy.allow[" + i + "] \"" + p + "\"", null));
        }
        for (int i = 0; i < destinations.size(); i++) {
            DestinationRule d = destinations.get(i);
            for (HostPattern p : d.hosts()) {
                allow.add(p, new AllowRule("mesh.destinations[" + i + "] \"" + p + "\"", d.ports()));
            }
        }
        for (int i = 0; i < denyPatterns.size(); i++) {
            deny.add(denyPatterns.get(i), "policy.deny[" + i + "] \"" + denyPatterns.get(i) + "\"");
        }
        this.allowAll = allow.isEmpty();
        this.denyNetworks = List.copyOf(denyNetworks);
        this.clients = List.copyOf(clients);
    }

    /** Whether a client at this address may use the proxy at all. */
    public Decision checkClient(InetAddress client) {
        if (clients.isEmpty()) {
            return Decision.allow("policy.clients (empty: any client)");
        }
        for (Cidr c : clients) {
            if (c.contains(client)) {
                return Decision.allow("policy.clients \"" + c + "\"");
            }
        }
        return Decision.refuse("policy.clients (client " + client.getHostAddress() + " is in none of them)");
    }

    /** Whether a normalized host name (or IP literal) may be reached on this port. */
    public Decision checkName(String host, int port) {
        List<String> denied = deny.matches(host);
        if (!denied.isEmpty()) {
            return Decision.refuse(denied.get(0));
        }
        if (allowAll) {
            return Decision.allow("policy.allow (empty, and no mesh.destinations: every host)");
        }
        List<AllowRule> rules = allow.matches(host);
        if (rules.isEmpty()) {
            return Decision.refuse("policy.allow (" + host + " matches no allow pattern or mesh destination)");
        }
        for (AllowRule r : rules) {
            if (r.ports() == null || r.ports().contains(port)) {
                return Decision.allow(r.origin());
            }
        }
        return Decision.refuse(rules.get(0).origin() + " (port " + port + " is not one of its ports "
                + rules.get(0).ports() + ")");
    }

    /**
     * The mesh destination that lists this port for this host, if any: such a port is open to CONNECT even
     * when it is not one of {@code http.connectPorts}.
     */
    public java.util.Optional<String> destinationListingPort(String host, int port) {
        if (!deny.matches(host).isEmpty()) {
            return java.util.Optional.empty();
        }
        for (AllowRule r : allow.matches(host)) {
            if (r.ports() != null && r.ports().contains(port)) {
                return java.util.Optional.of(r.origin());
            }
        }
        return java.util.Optional.empty();
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
