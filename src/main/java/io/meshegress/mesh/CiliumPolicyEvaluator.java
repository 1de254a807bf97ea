package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshegress.policy.Cidr;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CiliumNetworkPolicy (cilium.io/v2) semantics, as Cilium's policy documentation and the CRD's field
 * descriptions define them, for {@link NetworkPolicyEvaluator} on a cilium-like CNI. A policy selects the
 * endpoints of its own namespace that its endpointSelector matches; a direction with a section (even empty) is
 * default-deny for them. Peers: toEndpoints/fromEndpoints (label selectors over the pod's labels and
 * {@code io.kubernetes.pod.namespace}, which defaults to the policy's namespace when a selector does not name it;
 * the {@code k8s:} source prefix matches Kubernetes labels), toEntities/fromEntities ({@code host} and
 * {@code remote-node}: nodes and host-network pods; {@code kube-apiserver}; {@code world}: outside the cluster;
 * {@code cluster}: everything inside it; {@code all}), toCIDR/toCIDRSet (only addresses outside the cluster).
 * toPorts: a port number as a string, protocol TCP, UDP or ANY (absent: any).
 */
final class CiliumPolicyEvaluator {
    private static final String NAMESPACE = "io.kubernetes.pod.namespace";

    private final List<JsonNode> policies;

    CiliumPolicyEvaluator(List<? extends JsonNode> objects) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode o : objects) {
            if (o.path("kind").asText().equals("CiliumNetworkPolicy")) {
                out.add(o);
            }
        }
        this.policies = List.copyOf(out);
    }

    NetworkPolicyEvaluator.Layer decide(NetworkPolicyEvaluator.Pod pod, String section,
                                        NetworkPolicyEvaluator.Peer other, int port, String protocol) {
        boolean isolated = false;
        String prefix = section.equals("egress") ? "to" : "from";
        for (JsonNode p : policies) {
            String ns = p.path("metadata").path("namespace").asText();
            if (!ns.equals(pod.namespace()) || !selects(p.path("spec").path("endpointSelector"), pod, ns)
                    || !p.path("spec").has(section)) {
                continue;
            }
            isolated = true;
            JsonNode rules = p.path("spec").path(section);
            for (int i = 0; i < rules.size(); i++) {
                JsonNode rule = rules.get(i);
                if (peerMatches(rule, prefix, ns, other) && portsMatch(rule.path("toPorts"), port, protocol)) {
                    return new NetworkPolicyEvaluator.Layer(true, true, "allowed by CiliumNetworkPolicy "
                            + NetworkPolicyEvaluator.name(p) + " " + section + "[" + i + "]");
                }
            }
        }
        return new NetworkPolicyEvaluator.Layer(isolated, !isolated, "");
    }

    private static boolean peerMatches(JsonNode rule, String prefix, String policyNamespace,
                                       NetworkPolicyEvaluator.Peer other) {
        boolean any = false;
        JsonNode endpoints = rule.path(prefix + "Endpoints");
        if (!endpoints.isMissingNode()) {
            any = true;
            if (other.where() == NetworkPolicyEvaluator.Where.POD) {
                for (JsonNode selector : endpoints) {
                    if (selects(selector, other.pod(), policyNamespace)) {
                        return true;
                    }
                }
            }
        }
        JsonNode entities = rule.path(prefix + "Entities");
        if (!entities.isMissingNode()) {
            any = true;
            for (JsonNode e : entities) {
                if (entityMatches(e.asText(), other.where())) {
                    return true;
                }
            }
        }
        for (String cidrs : new String[] {prefix + "CIDR", prefix + "CIDRSet"}) {
            JsonNode list = rule.path(cidrs);
            if (list.isMissingNode()) {
                continue;
            }
            any = true;
            if (other.where() != NetworkPolicyEvaluator.Where.OUTSIDE || other.address() == null) {
                continue; // CIDR rules never match inside the cluster
            }
            for (JsonNode c : list) {
                if (c.isTextual() ? Cidr.parse(c.asText()).contains(other.address())
                        : NetworkPolicyEvaluator.ipBlockMatches(c, other.address())) {
                    return true;
                }
            }
        }
        return !any; // a rule with ports only: every peer
    }

    private static boolean entityMatches(String entity, NetworkPolicyEvaluator.Where where) {
        return switch (entity) {
            case "all" -> true;
            case "world" -> where == NetworkPolicyEvaluator.Where.OUTSIDE;
            case "cluster" -> where != NetworkPolicyEvaluator.Where.OUTSIDE;
            case "host", "remote-node" -> where == NetworkPolicyEvaluator.Where.NODE;
            case "kube-apiserver" -> where == NetworkPolicyEvaluator.Where.API_SERVER;
            default -> false;
        };
    }

    /** An endpoint selector over the pod's labels plus its namespace, which defaults to the policy's. */
    private static boolean selects(JsonNode selector, NetworkPolicyEvaluator.Pod pod, String policyNamespace) {
        Map<String, String> labels = new HashMap<>(pod.labels());
        labels.put(NAMESPACE, pod.namespace());
        boolean namesNamespace = false;
        for (JsonNode req : selector.path("matchExpressions")) {
            namesNamespace |= strip(req.path("key").asText()).equals(NAMESPACE);
        }
        namesNamespace |= selector.path("matchLabels").has("k8s:" + NAMESPACE) || selector.path("matchLabels").has(NAMESPACE);
        if (!namesNamespace && !pod.namespace().equals(policyNamespace)) {
            return false;
        }
        com.fasterxml.jackson.databind.node.ObjectNode stripped = selector.deepCopy();
        com.fasterxml.jackson.databind.node.ObjectNode matchLabels = stripped.putObject("matchLabels");
        selector.path("matchLabels").fields().forEachRemaining(e -> matchLabels.set(strip(e.getKey()), e.getValue()));
        for (JsonNode req : stripped.path("matchExpressions")) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) req).put("key", strip(req.path("key").asText()));
        }
        return NetworkPolicyEvaluator.labelsMatch(stripped, labels);
    }

    private static String strip(String key) {
        return key.startsWith("k8s:") ? key.substring(4) : key;
    }

    private static boolean portsMatch(JsonNode toPorts, int port, String protocol) {
        if (toPorts.isMissingNode() || toPorts.isEmpty()) {
            return true;
        }
        for (JsonNode pr : toPorts) {
            for (JsonNode p : pr.path("ports")) {
                String proto = p.path("protocol").asText("ANY");
                boolean protoOk = proto.equals("ANY") || proto.isEmpty() || proto.equals(protocol);
                if (protoOk && p.path("port").asText().equals(Integer.toString(port))) {
                    return true;
                }
            }
        }
        return false;
    }
}
