package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.policy.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Cilium's CiliumNetworkPolicy (cilium.io/v2), checked field by field: no official schema of that CRD ships with
 * this project, so the shape is checked here, as {@link MonitoringChecks} does for the Prometheus Operator. Only
 * the part of Cilium's policy language this project can write is admitted; any other or misspelt field is an
 * error, as the strict schemas make it for the other kinds. Every field and value comes from Cilium's docs:
 * <ul>
 *   <li>https://docs.cilium.io/en/stable/security/policy/language/ and .../security/policy/layer3/ (the rule:
 *   endpointSelector, ingress/egress; peers by endpoints, entities, CIDR and CIDR set with except, DNS names by
 *   toFQDNs matchName/matchPattern; the entity list; one kind of peer per rule);</li>
 *   <li>https://docs.cilium.io/en/latest/security/policy/layer4/ (toPorts' PortProtocol: port is a number or a
 *   named port, as a string; protocol TCP, UDP, SCTP or ANY);</li>
 *   <li>selectors are Kubernetes label selectors (matchLabels, matchExpressions key/operator/values with In,
 *   NotIn, Exists, DoesNotExist), as Cilium's docs say of endpointSelector.</li>
 * </ul>
 */
final class CiliumChecks {
    static final String API = "cilium.io/v2";
    static final String KIND = "CiliumNetworkPolicy";

    private static final Set<String> ENVELOPE = Set.of("apiVersion", "kind", "metadata", "spec");
    private static final Set<String> METADATA = Set.of("name", "namespace", "labels", "annotations");
    private static final Set<String> SPEC = Set.of("description", "endpointSelector", "ingress", "egress");
    private static final Set<String> INGRESS = Set.of("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet",
            "toPorts");
    private static final Set<String> EGRESS = Set.of("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toFQDNs",
            "toPorts");
    private static final Set<String> ENTITIES = Set.of("all", "world", "cluster", "host", "remote-node",
            "kube-apiserver", "init", "health", "unmanaged", "ingress", "none");
    private static final Set<String> SELECTOR = Set.of("matchLabels", "matchExpressions");
    private static final Set<String> EXPRESSION = Set.of("key", "operator", "values");
    private static final Set<String> OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");
    private static final Set<String> CIDR_SET = Set.of("cidr", "except");
    private static final Set<String> PORT_RULE = Set.of("ports");
    private static final Set<String> PORT = Set.of("port", "protocol");
    /** The layer 4 page: TCP, UDP, SCTP, or ANY (also written "", "any protocol"). */
    private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP", "ANY", "");
    private static final Set<String> FQDN = Set.of("matchName", "matchPattern");
    /** A named port is a container port's name: IANA service name syntax, at most 15 characters. */
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    private CiliumChecks() {
    }

    static boolean covers(String apiVersion, String kind) {
        return apiVersion.equals(API) && kind.equals(KIND);
    }

    /** The shape of one CiliumNetworkPolicy beyond its metadata's name and namespace (checked by the caller). */
    static void check(ObjectNode o, String id, List<String> problems) {
        known(o, ENVELOPE, id, "", problems);
        known(o.path("metadata"), METADATA, id, "/metadata", problems);
        JsonNode spec = o.path("spec");
        if (!spec.isObject()) {
            problems.add(id + ": /spec: needs a spec");
            return;
        }
        if (o.has("status")) {
            problems.add(id + ": /status: a generated object has no status");
        }
        known(spec, SPEC, id, "/spec", problems);
        if (spec.has("description") && !spec.path("description").isTextual()) {
            problems.add(id + ": /spec/description: must be a string");
        }
        if (!spec.has("endpointSelector")) {
            problems.add(id + ": /spec: needs an endpointSelector (an empty one selects every pod of the namespace)");
        } else {
            selector(spec.path("endpointSelector"), id, "/spec/endpointSelector", problems);
        }
        if (!spec.has("ingress") && !spec.has("egress")) {
            problems.add(id + ": /spec: needs ingress or egress");
        }
        rules(spec, "ingress", INGRESS, id, problems);
        rules(spec, "egress", EGRESS, id, problems);
    }

    private static void rules(JsonNode spec, String section, Set<String> fields, String id, List<String> problems) {
        if (!spec.has(section)) {
            return;
        }
        JsonNode rules = spec.path(section);
        String at = "/spec/" + section;
        if (!rules.isArray()) {
            problems.add(id + ": " + at + ": must be a list of rules");
            return;
        }
        for (int i = 0; i < rules.size(); i++) {
            JsonNode rule = rules.get(i);
            String where = at + "/" + i;
            if (!known(rule, fields, id, where, problems)) {
                continue;
            }
            List<String> peers = new ArrayList<>();
            rule.fieldNames().forEachRemaining(f -> {
                if (fields.contains(f) && !f.equals("toPorts")) {
                    peers.add(f);
                }
            });
            // Cilium's language: a rule selects its peers by one method only (endpoints, entities, CIDRs, names).
            if (peers.size() > 1) {
                problems.add(id + ": " + where + ": " + peers + " are mutually exclusive in one rule");
            }
            for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) rule::fields) {
                String f = e.getKey();
                if (!fields.contains(f)) {
                    continue;
                }
                String w = where + "/" + f;
                JsonNode v = e.getValue();
                if (!v.isArray()) {
                    problems.add(id + ": " + w + ": must be a list");
                    continue;
                }
                for (int j = 0; j < v.size(); j++) {
                    String wj = w + "/" + j;
                    JsonNode item = v.get(j);
                    switch (f) {
                        case "fromEndpoints", "toEndpoints" -> selector(item, id, wj, problems);
                        case "fromEntities", "toEntities" -> {
                            if (!item.isTextual() || !ENTITIES.contains(item.asText())) {
                                problems.add(id + ": " + wj + ": " + item + " is not one of Cilium's entities "
                                        + ENTITIES);
                            }
                        }
                        case "fromCIDR", "toCIDR" -> cidr(item, id, wj, problems);
                        case "fromCIDRSet", "toCIDRSet" -> cidrSet(item, id, wj, problems);
                        case "toFQDNs" -> fqdn(item, id, wj, problems);
                        case "toPorts" -> portRule(item, id, wj, problems);
                        default -> throw new IllegalStateException(f);
                    }
                }
            }
        }
    }

    private static void selector(JsonNode s, String id, String where, List<String> problems) {
        if (!known(s, SELECTOR, id, where, problems)) {
            return;
        }
        JsonNode labels = s.path("matchLabels");
        if (s.has("matchLabels")) {
            if (!labels.isObject()) {
                problems.add(id + ": " + where + "/matchLabels: must be a map of label to value");
            } else {
                labels.fields().forEachRemaining(e -> {
                    if (!e.getValue().isTextual()) {
                        problems.add(id + ": " + where + "/matchLabels/" + e.getKey() + ": must be a string");
                    }
                });
            }
        }
        if (!s.has("matchExpressions")) {
            return;
        }
        JsonNode exprs = s.path("matchExpressions");
        if (!exprs.isArray()) {
            problems.add(id + ": " + where + "/matchExpressions: must be a list");
            return;
        }
        for (int i = 0; i < exprs.size(); i++) {
            JsonNode e = exprs.get(i);
            String w = where + "/matchExpressions/" + i;
            if (!known(e, EXPRESSION, id, w, problems)) {
                continue;
            }
            if (e.path("key").asText("").isEmpty() || !e.path("key").isTextual()) {
                problems.add(id + ": " + w + "/key: needs a label key");
            }
            String op = e.path("operator").asText("");
            if (!e.path("operator").isTextual() || !OPERATORS.contains(op)) {
                problems.add(id + ": " + w + "/operator: " + e.path("operator") + " is not one of " + OPERATORS);
                continue;
            }
            JsonNode values = e.path("values");
            boolean set = op.equals("In") || op.equals("NotIn");
            if (set && (!values.isArray() || values.isEmpty())) {
                problems.add(id + ": " + w + "/values: " + op + " needs at least one value");
            } else if (!set && e.has("values") && !(values.isArray() && values.isEmpty())) {
                problems.add(id + ": " + w + "/values: " + op + " takes no values");
            }
            values.forEach(v -> {
                if (!v.isTextual()) {
                    problems.add(id + ": " + w + "/values: " + v + " must be a string");
                }
            });
        }
    }

    private static void cidr(JsonNode c, String id, String where, List<String> problems) {
        if (!c.isTextual()) {
            problems.add(id + ": " + where + ": " + c + " is not a CIDR");
            return;
        }
        try {
            Cidr.parse(c.asText());
        } catch (IllegalArgumentException e) {
            problems.add(id + ": " + where + ": " + e.getMessage());
        }
    }

    private static void cidrSet(JsonNode s, String id, String where, List<String> problems) {
        if (!known(s, CIDR_SET, id, where, problems)) {
            return;
        }
        if (!s.has("cidr")) {
            problems.add(id + ": " + where + ": needs a cidr");
        } else {
            cidr(s.path("cidr"), id, where + "/cidr", problems);
        }
        if (s.has("except") && !s.path("except").isArray()) {
            problems.add(id + ": " + where + "/except: must be a list");
        }
        for (int i = 0; i < s.path("except").size(); i++) {
            cidr(s.path("except").get(i), id, where + "/except/" + i, problems);
        }
    }

    private static void fqdn(JsonNode f, String id, String where, List<String> problems) {
        if (!known(f, FQDN, id, where, problems)) {
            return;
        }
        int set = 0;
        for (String k : FQDN) {
            if (f.has(k)) {
                set++;
                if (f.path(k).asText("").isEmpty() || !f.path(k).isTextual()) {
                    problems.add(id + ": " + where + "/" + k + ": needs a name");
                }
            }
        }
        if (set != 1) {
            problems.add(id + ": " + where + ": needs one of matchName and matchPattern");
        }
    }

    private static void portRule(JsonNode r, String id, String where, List<String> problems) {
        if (!known(r, PORT_RULE, id, where, problems)) {
            return;
        }
        JsonNode ports = r.path("ports");
        if (!ports.isArray() || ports.isEmpty()) {
            problems.add(id + ": " + where + "/ports: needs at least one port");
            return;
        }
        for (int i = 0; i < ports.size(); i++) {
            JsonNode p = ports.get(i);
            String w = where + "/ports/" + i;
            if (!known(p, PORT, id, w, problems)) {
                continue;
            }
            port(p.path("port"), id, w + "/port", problems);
            if (p.has("protocol") && (!p.path("protocol").isTextual()
                    || !PROTOCOLS.contains(p.path("protocol").asText()))) {
                problems.add(id + ": " + w + "/protocol: " + p.path("protocol") + " is not one of " + PROTOCOLS);
            }
        }
    }

    /** Cilium's port is a string: a number 1-65535 or the name of a container port. */
    private static void port(JsonNode port, String id, String where, List<String> problems) {
        String p = port.isTextual() ? port.asText() : "";
        if (!p.isEmpty() && p.chars().allMatch(Character::isDigit)) {
            if (p.length() > 5 || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
                problems.add(id + ": " + where + ": " + port + " is not a port (1-65535)");
            }
            return;
        }
        if (p.isEmpty() || p.length() > 15 || !PORT_NAME.matcher(p).matches() || p.contains("--")
                || p.chars().noneMatch(Character::isLetter)) {
            problems.add(id + ": " + where + ": " + port + " is neither a port number (as a string) nor a port name");
        }
    }

    /** Every field of an object is one the language defines here; false when it is not an object at all. */
    private static boolean known(JsonNode o, Set<String> fields, String id, String where, List<String> problems) {
        if (!o.isObject()) {
            problems.add(id + ": " + (where.isEmpty() ? "/" : where) + ": must be an object");
            return false;
        }
        o.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                problems.add(id + ": " + where + "/" + f + ": unknown field (Cilium's language here has "
                        + fields.stream().sorted().toList() + ")");
            }
        });
        return true;
    }
}
