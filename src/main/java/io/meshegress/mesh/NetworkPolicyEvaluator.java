package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshegress.policy.Cidr;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics, as the API documentation defines them, over policy
 * objects as JSON: which policies select a pod (their namespace, podSelector with matchLabels and
 * matchExpressions), whether the pod is isolated for a direction (policyTypes, or Ingress plus Egress when an
 * egress section is present), and whether one rule of a selecting policy allows a connection (peers: ipBlock with
 * except, podSelector, namespaceSelector, both; ports: protocol defaulting to TCP, port, endPort; an absent or
 * empty list matches all). Policies are additive: any allowing rule allows. Named ports are not resolved (they
 * match nothing here). Traffic from the pod's own node is always allowed in ("When a pod is isolated for
 * ingress, the only allowed connections into the pod are those from the pod's node and those allowed by the
 * ingress list", Kubernetes docs, Network Policies).
 *
 * <p>What the API leaves to the CNI is a {@link Semantics}: on a calico-like CNI an ipBlock matches any address
 * (pods, nodes, host-network pods); on a cilium-like one it matches only addresses outside the cluster, and the
 * node and the API server are entities that only a CiliumNetworkPolicy names ({@link CiliumPolicyEvaluator}),
 * which such a CNI honours beside NetworkPolicies. Pure; used by the tests' simulation and by
 * {@code check --namespace}.
 */
public final class NetworkPolicyEvaluator {

    /** How the cluster's CNI fills in what the NetworkPolicy API leaves open. */
    public enum Semantics {
        /** ipBlock matches any address; CiliumNetworkPolicies are not read (Calico, most CNIs). */
        CALICO_LIKE,
        /** ipBlock matches only outside the cluster; CiliumNetworkPolicies apply too (Cilium, Dataplane V2). */
        CILIUM_LIKE
    }

    /** A pod: its namespace (whose labels include kubernetes.io/metadata.name) and its labels. */
    public record Pod(String namespace, Map<String, String> labels) {
        Map<String, String> namespaceLabels() {
            return Map.of(EnforcementManifests.NAMESPACE_LABEL, namespace);
        }
    }

    /** What the other end of a connection is, which decides which kind of rule can match it. */
    public enum Where {
        /** A pod on the pod network. */
        POD,
        /** A node, or a host-network pod on it (NodeLocal DNSCache). */
        NODE,
        /** The Kubernetes API server (kubernetes.default.svc's endpoints). */
        API_SERVER,
        /** Anything outside the cluster. */
        OUTSIDE
    }

    /** The other end of a connection: an address, the pod behind it when it is one, and what it is. */
    public record Peer(InetAddress address, Pod pod, Where where) {
        /** A pod, or (no pod) an address outside the cluster. */
        public Peer(InetAddress address, Pod pod) {
            this(address, pod, pod == null ? Where.OUTSIDE : Where.POD);
        }
    }

    /** Allowed or not, and which policy (and rule) said so, or why nothing did. */
    public record Verdict(boolean allowed, String reason) {
    }

    private final List<JsonNode> policies;
    private final Semantics semantics;
    private final CiliumPolicyEvaluator cilium;

    /** A calico-like CNI. */
    public NetworkPolicyEvaluator(List<? extends JsonNode> objects) {
        this(objects, Semantics.CALICO_LIKE);
    }

    public NetworkPolicyEvaluator(List<? extends JsonNode> objects, Semantics semantics) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode o : objects) {
            if (o.path("kind").asText().equals("NetworkPolicy")) {
                out.add(o);
            }
        }
        this.policies = List.copyOf(out);
        this.semantics = semantics;
        this.cilium = semantics == Semantics.CILIUM_LIKE ? new CiliumPolicyEvaluator(objects) : null;
    }

    public Verdict egress(Pod from, Peer to, int port, String protocol) {
        return both(decide(from, "Egress", "egress", "to", to, port, protocol),
                cilium == null ? null : cilium.decide(from, "egress", to, port, protocol), "egress");
    }

    public Verdict ingress(Pod to, Peer from, int port, String protocol) {
        if (from.where() == Where.NODE) {
            return new Verdict(true, "allowed: a pod's own node may always reach it");
        }
        return both(decide(to, "Ingress", "ingress", "from", from, port, protocol),
                cilium == null ? null : cilium.decide(to, "ingress", from, port, protocol), "ingress");
    }

    /** One kind of policy's answer: whether any policy of that kind isolates the pod, and whether a rule allows. */
    record Layer(boolean isolates, boolean allowed, String reason) {
    }

    /**
     * NetworkPolicies and CiliumNetworkPolicies together: isolated if either isolates, allowed if any rule of
     * either allows (Cilium's policies of both kinds are additive).
     */
    private static Verdict both(Layer k8s, Layer cnp, String section) {
        if (k8s.allowed() && k8s.isolates()) {
            return new Verdict(true, k8s.reason());
        }
        if (cnp != null && cnp.allowed() && cnp.isolates()) {
            return new Verdict(true, cnp.reason());
        }
        if (k8s.isolates() || (cnp != null && cnp.isolates())) {
            return new Verdict(false, "refused: no " + section + " rule of the policies selecting the pod allows it");
        }
        return new Verdict(true, "allowed: no policy isolates the pod for " + section);
    }

    private Layer decide(Pod pod, String type, String section, String peers, Peer other, int port, String protocol) {
        boolean isolated = false;
        for (JsonNode p : policies) {
            if (!selects(p, pod) || !hasType(p, type)) {
                continue;
            }
            isolated = true;
            JsonNode rules = p.path("spec").path(section);
            for (int i = 0; i < rules.size(); i++) {
                JsonNode rule = rules.get(i);
                if (peersMatch(rule.path(peers), p, other, semantics) && portsMatch(rule.path("ports"), port, protocol)) {
                    return new Layer(true, true, "allowed by NetworkPolicy " + name(p) + " " + section + "[" + i + "]");
                }
            }
        }
        return new Layer(isolated, !isolated, "");
    }

    static boolean selects(JsonNode policy, Pod pod) {
        return policy.path("metadata").path("namespace").asText().equals(pod.namespace())
                && labelsMatch(policy.path("spec").path("podSelector"), pod.labels());
    }

    static boolean hasType(JsonNode policy, String type) {
        JsonNode types = policy.path("spec").path("policyTypes");
        if (types.isMissingNode() || types.isEmpty()) {
            return type.equals("Ingress") || policy.path("spec").has("egress");
        }
        for (JsonNode t : types) {
            if (t.asText().equals(type)) {
                return true;
            }
        }
        return false;
    }

    static boolean peersMatch(JsonNode peers, JsonNode policy, Peer other, Semantics semantics) {
        if (peers.isMissingNode() || peers.isEmpty()) {
            return true; // no peers listed: every source or destination
        }
        for (JsonNode peer : peers) {
            if (peer.has("ipBlock")) {
                boolean seen = semantics == Semantics.CALICO_LIKE || other.where() == Where.OUTSIDE;
                if (seen && ipBlockMatches(peer.path("ipBlock"), other.address())) {
                    return true;
                }
                continue;
            }
            if (other.where() != Where.POD) {
                continue; // a selector peer matches pods only (host-network pods are the node)
            }
            boolean namespaceOk = peer.has("namespaceSelector")
                    ? labelsMatch(peer.path("namespaceSelector"), other.pod().namespaceLabels())
                    : other.pod().namespace().equals(policy.path("metadata").path("namespace").asText());
            boolean podOk = !peer.has("podSelector") || labelsMatch(peer.path("podSelector"), other.pod().labels());
            if (namespaceOk && podOk) {
                return true;
            }
        }
        return false;
    }

    static boolean ipBlockMatches(JsonNode block, InetAddress address) {
        if (address == null || !Cidr.parse(block.path("cidr").asText()).contains(address)) {
            return false;
        }
        for (JsonNode e : block.path("except")) {
            if (Cidr.parse(e.asText()).contains(address)) {
                return false;
            }
        }
        return true;
    }

    static boolean portsMatch(JsonNode ports, int port, String protocol) {
        if (ports.isMissingNode() || ports.isEmpty()) {
            return true;
        }
        for (JsonNode p : ports) {
            if (!p.path("protocol").asText("TCP").equals(protocol)) {
                continue;
            }
            JsonNode number = p.path("port");
            if (number.isMissingNode()) {
                return true; // every port of that protocol
            }
            if (!number.isInt()) {
                continue; // a named port: resolved against container ports, which this evaluator does not know
            }
            int end = p.has("endPort") ? p.path("endPort").asInt() : number.asInt();
            if (port >= number.asInt() && port <= end) {
                return true;
            }
        }
        return false;
    }

    /** A label selector: every matchLabels pair and every matchExpressions requirement; {} selects all. */
    static boolean labelsMatch(JsonNode selector, Map<String, String> labels) {
        for (Map.Entry<String, JsonNode> e : iterable(selector.path("matchLabels"))) {
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (JsonNode req : selector.path("matchExpressions")) {
            String key = req.path("key").asText();
            List<String> values = new ArrayList<>();
            req.path("values").forEach(v -> values.add(v.asText()));
            Optional<String> value = Optional.ofNullable(labels.get(key));
            boolean ok = switch (req.path("operator").asText()) {
                case "In" -> value.isPresent() && values.contains(value.get());
                case "NotIn" -> value.isEmpty() || !values.contains(value.get());
                case "Exists" -> value.isPresent();
                case "DoesNotExist" -> value.isEmpty();
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
        return node::fields;
    }

    static String name(JsonNode p) {
        return p.path("metadata").path("namespace").asText() + "/" + p.path("metadata").path("name").asText();
    }
}
