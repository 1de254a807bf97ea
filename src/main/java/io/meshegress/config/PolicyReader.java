package io.meshegress.config;

import io.meshegress.policy.AllowEntry;
import io.meshegress.policy.Cidr;
import io.meshegress.policy.HostPattern;
import io.meshegress.policy.PolicyMode;
import io.meshegress.policy.Role;
import io.meshegress.text.Quote;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code policy} section: the global rules, the default role's allow-list and mode, and the named roles,
 * with the checks that make a role file unambiguous (names unique, every client in at most one place a role
 * can ever match, CONNECT ports only narrowed).
 */
final class PolicyReader extends YamlValueReader {
    private final List<Integer> listenerConnectPorts;
    private final EgressConfig.Identity identity;

    /**
     * @param listenerConnectPorts http.connectPorts, which a role may narrow but not widen
     * @param identity             what names clients: pods (identity.kubernetes) for workloads entries, Basic users
     *                             (identity.basic) for user entries
     */
    PolicyReader(String file, List<Integer> listenerConnectPorts, EgressConfig.Identity identity) {
        super(file);
        this.listenerConnectPorts = listenerConnectPorts;
        this.identity = identity;
    }

    EgressConfig.Policy policy(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.POLICY);
        List<AllowEntry> allow = f.has("allow") ? list(f.get("allow"), n -> allowEntry(n, ConfigSection.ALLOW_ENTRY)) : List.of();
        List<HostPattern> deny = f.has("deny") ? list(f.get("deny"), this::hostPattern) : List.of();
        List<Cidr> denyNetworks = f.has("denyNetworks") ? list(f.get("denyNetworks"), this::cidr)
                : ConfigLoader.DEFAULT_DENY_NETWORKS.stream().map(Cidr::parse).toList();
        List<Cidr> clients = f.has("clients") ? clients(f.get("clients"))
                : ConfigLoader.DEFAULT_CLIENTS.stream().map(Cidr::parse).toList();
        PolicyMode mode = f.has("mode") ? mode(f.get("mode")) : PolicyMode.ENFORCE;
        List<EgressConfig.Role> roles = new ArrayList<>();
        if (f.has("roles")) {
            Map<String, YamlNode> names = new HashMap<>();
            Map<Cidr, String> earlier = new java.util.LinkedHashMap<>();
            for (YamlNode n : sequence(f.get("roles"))) {
                roles.add(role(n, mode, names, earlier));
            }
        }
        return new EgressConfig.Policy(allow, deny, denyNetworks, clients, mode, roles);
    }

    /** policy.clients as written; an empty list would admit nobody, so it says what to write instead. */
    private List<Cidr> clients(YamlNode node) throws ConfigException {
        List<Cidr> clients = list(node, this::cidr);
        if (clients.isEmpty()) {
            throw at(node, "an empty list admits no client: omit clients for the private ranges "
                    + String.join(", ", ConfigLoader.DEFAULT_CLIENTS) + ", or write clients: "
                    + "[\"0.0.0.0/0\", \"::/0\"] to admit any client");
        }
        return clients;
    }

    private List<YamlNode> sequence(YamlNode node) throws ConfigException {
        return list(node, n -> n);
    }

    private EgressConfig.Role role(YamlNode n, PolicyMode policyMode, Map<String, YamlNode> names,
                                   Map<Cidr, String> earlier) throws ConfigException {
        Fields r = fields(n, ConfigSection.ROLE);
        if (!r.has("name")) {
            throw at(n, "a role needs a name (e.g. name: payments)");
        }
        String name = dnsLabel(r.get("name"), "a role name");
        if (name.equals(Role.DEFAULT)) {
            throw at(r.get("name"), "\"default\" is the role of clients in no role (policy.allow); pick another name");
        }
        if (names.putIfAbsent(name, r.get("name")) != null) {
            YamlNode first = names.get(name);
            throw at(r.get("name"), "role " + Quote.shortly(name) + " is already defined at line "
                    + first.position().line());
        }
        List<io.meshegress.policy.WorkloadSelector> workloads = List.of();
        if (r.has("workloads")) {
            workloads = new WorkloadReader(file, identity, name).workloads(r.get("workloads"));
        }
        if (!r.has("clients") && workloads.isEmpty()) {
            throw at(n, "role " + name + " needs clients (CIDRs or addresses, e.g. clients: [\"10.1.0.0/16\"]) "
                    + "or workloads (e.g. workloads: [{namespace: payments}])");
        }
        List<YamlNode> clientNodes = r.has("clients") ? sequence(r.get("clients")) : List.of();
        if (r.has("clients") && clientNodes.isEmpty()) {
            throw at(r.get("clients"), "role " + name + " needs at least one client CIDR or address");
        }
        List<Cidr> clients = new ArrayList<>();
        for (YamlNode c : clientNodes) {
            Cidr cidr = cidr(c);
            for (Map.Entry<Cidr, String> e : earlier.entrySet()) {
                if (e.getKey().covers(cidr)) {
                    // First role wins, so this entry could never match: the file would not mean what it says.
                    throw at(c, "\"" + cidr + "\" is already held by " + e.getValue() + " \"" + e.getKey()
                            + "\" (the first role that holds a client wins); a client belongs to one role");
                }
            }
            clients.add(cidr);
        }
        for (int i = 0; i < clients.size(); i++) {
            earlier.put(clients.get(i), clientNodes.get(i).path().replaceAll("\\[\\d+]$", ""));
        }
        List<AllowEntry> allow = r.has("allow") ? list(r.get("allow"), e -> allowEntry(e, ConfigSection.ROLE_ALLOW_ENTRY)) : List.of();
        List<HostPattern> deny = r.has("deny") ? list(r.get("deny"), this::hostPattern) : List.of();
        PolicyMode mode = r.has("mode") ? mode(r.get("mode")) : policyMode;
        List<Integer> connectPorts = null;
        if (r.has("connectPorts")) {
            connectPorts = list(r.get("connectPorts"), this::port);
            for (int i = 0; i < connectPorts.size(); i++) {
                if (!listenerConnectPorts.contains(connectPorts.get(i))) {
                    throw at(sequence(r.get("connectPorts")).get(i), "port " + connectPorts.get(i)
                            + " is not in http.connectPorts " + listenerConnectPorts + " (a role may only narrow them)");
                }
            }
        }
        return new EgressConfig.Role(name, clients, workloads, allow, deny, mode, connectPorts);
    }

    /** A host pattern (any port), or {@code {host: PATTERN, ports: [P, ...]}} (the name on those ports only). */
    private AllowEntry allowEntry(YamlNode n, ConfigSection section) throws ConfigException {
        if (!(n instanceof YamlNode.Mapping)) {
            return AllowEntry.anyPort(hostPattern(n));
        }
        Fields e = fields(n, section);
        if (!e.has("host") || !e.has("ports")) {
            throw at(n, "an entry with ports needs host and ports (e.g. {host: api.example.com, ports: [443]}); "
                    + "write the host alone for any port");
        }
        List<Integer> ports = list(e.get("ports"), this::port);
        if (ports.isEmpty()) {
            throw at(e.get("ports"), "at least one port (write the host alone for any port)");
        }
        return AllowEntry.onPorts(hostPattern(e.get("host")), ports);
    }

    private PolicyMode mode(YamlNode n) throws ConfigException {
        String v = string(n);
        return switch (v) {
            case "enforce" -> PolicyMode.ENFORCE;
            case "report" -> PolicyMode.REPORT;
            default -> throw at(n, Quote.shortly(v) + " is not enforce or report");
        };
    }
}
