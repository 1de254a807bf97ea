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
 * match nothing here). Pure; used by the tests' simulation and by {@code check --namespace}.
 */
public final class NetworkPolicyEvaluator {

    /** A pod: its namespace (whose labels include kubernetes.io/metadata.name) and its labels. */
    public record Pod(String namespace, Map<String, String> labels) {
        Map<String, String> namespaceLabels() {
            return Map.of(EnforcementManifests.NAMESPACE_LABEL, namespace);
        }
    }

    /** The other end of a connection: an address, and the pod behind it when it is one. */
    public record Peer(InetAddress address, Pod pod) {
    }

    /** Allowed or not, and which policy (and rule) said so, or why nothing did. */
    public record Verdict(boolean allowed, String reason) {
    }

    private final List<JsonNode> policies;

    public NetworkPolicyEvaluator(List<? extends JsonNode> objects) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode o : objects) {
            if (o.path("kind").asText().equals("NetworkPolicy")) {
                out.add(o);
            }
        }
        this.policies = List.copyOf(out);
    }

    public Verdict egress(Pod from, Peer to, int port, String protocol) {
        return decide(from, "Egress", "egress", "to", to, port, protocol);
    }

    public Verdict ingress(Pod to, Peer from, int port, String protocol) {
        return decide(to, "Ingress", "ingress", "from", from, port, protocol);
    }

    private Verdict decide(Pod pod, String type, String section, String peers, Peer other, int port, String protocol) {
        boolean isolated = false;
        for (JsonNode p : policies) {
            if (!selects(p, pod) || !hasType(p, type)) {
                continue;
            }
            isolated = true;
            JsonNode rules = p.path("spec").path(section);
            for (int i = 0; i < rules.size(); i++) {
                JsonNode rule = rules.get(i);
                if (peersMatch(rule.path(peers), p, other) && portsMatch(rule.path("ports"), port, protocol)) {
                    return new Verdict(true, "allowed by NetworkPolicy " + name(p) + " " + section + "[" + i + "]");
                }
            }
        }
        return isolated ? new Verdict(false, "refused: no " + section + " rule of the NetworkPolicies selecting the "
                + "pod allows it") : new Verdict(true, "allowed: no NetworkPolicy isolates the pod for " + section);
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

    static boolean peersMatch(JsonNode peers, JsonNode policy, Peer other) {
        if (peers.isMissingNode() || peers.isEmpty()) {
            return true; // no peers listed: every source or destination
        }
        for (JsonNode peer : peers) {
            if (peer.has("ipBlock")) {
                if (ipBlockMatches(peer.path("ipBlock"), other.address())) {
                    return true;
                }
                continue;
            }
            if (other.pod() == null) {
                continue; // a selector peer matches pods only
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

    private static String name(JsonNode p) {
        return p.path("metadata").path("namespace").asText() + "/" + p.path("metadata").path("name").asText();
    }
}
