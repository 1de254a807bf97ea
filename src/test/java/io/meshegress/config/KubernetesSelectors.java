package io.meshegress.config;

import io.meshegress.policy.Workload;
import java.util.List;
import java.util.Map;

/**
 * A second, deliberately plain reading of Kubernetes label selectors, for {@link WorkloadsFuzzTest} to judge the
 * loader and the matcher by. Written from the Kubernetes documentation ("Labels and Selectors": syntax and
 * character set of keys and values, set-based requirements, "notin" and "!" selecting objects without the key;
 * the LabelSelector and LabelSelectorRequirement API reference: matchLabels and matchExpressions ANDed, an empty
 * selector matching everything, In/NotIn needing values and Exists/DoesNotExist none) and apimachinery's
 * validation (IsQualifiedName, IsValidLabelValue, IsDNS1123Label for namespaces, IsDNS1123Subdomain for service
 * accounts). No regular expressions: every rule is spelled out character by character.
 */
final class KubernetesSelectors {
    private KubernetesSelectors() {
    }

    /** One matchExpressions element; {@code values} null when the YAML leaves the field out. */
    record Expression(String key, String operator, List<String> values) {
    }

    /**
     * A selector as written: {@code plain} is the shorthand (a mapping of labels standing for matchLabels);
     * otherwise {@code matchLabels} and {@code matchExpressions} may each be left out (null).
     */
    record Selector(boolean plain, Map<String, String> matchLabels, List<Expression> matchExpressions) {
        String yaml() {
            if (plain) {
                return labelsYaml(matchLabels);
            }
            StringBuilder sb = new StringBuilder("{");
            if (matchLabels != null) {
                sb.append("matchLabels: ").append(labelsYaml(matchLabels));
            }
            if (matchExpressions != null) {
                sb.append(matchLabels != null ? ", " : "").append("matchExpressions: [");
                for (int i = 0; i < matchExpressions.size(); i++) {
                    Expression e = matchExpressions.get(i);
                    sb.append(i == 0 ? "" : ", ").append("{key: ").append(quote(e.key())).append(", operator: ")
                            .append(quote(e.operator()));
                    if (e.values() != null) {
                        sb.append(", values: [");
                        for (int v = 0; v < e.values().size(); v++) {
                            sb.append(v == 0 ? "" : ", ").append(quote(e.values().get(v)));
                        }
                        sb.append(']');
                    }
                    sb.append('}');
                }
                sb.append(']');
            }
            return sb.append('}').toString();
        }
    }

    /** A workloads entry: namespace or namespaceSelector; serviceAccount and podSelector null when absent. */
    record Entry(String namespace, Selector namespaceSelector, String serviceAccount, Selector podSelector) {
        String yaml() {
            StringBuilder sb = new StringBuilder("{");
            sb.append(namespace != null ? "namespace: " + quote(namespace)
                    : "namespaceSelector: " + namespaceSelector.yaml());
            if (serviceAccount != null) {
                sb.append(", serviceAccount: ").append(quote(serviceAccount));
            }
            if (podSelector != null) {
                sb.append(", podSelector: ").append(podSelector.yaml());
            }
            return sb.append('}').toString();
        }
    }

    static boolean valid(Entry e) {
        if (e.namespace() != null && !dns1123Label(e.namespace())) {
            return false;
        }
        if (e.namespaceSelector() != null && !valid(e.namespaceSelector())) {
            return false;
        }
        if (e.serviceAccount() != null && !dns1123Subdomain(e.serviceAccount())) {
            return false;
        }
        return e.podSelector() == null || valid(e.podSelector());
    }

    static boolean valid(Selector s) {
        if (s.plain() && (s.matchLabels().containsKey("matchLabels") || s.matchLabels().containsKey("matchExpressions"))) {
            return false; // then it is the long form, whose matchLabels/matchExpressions here are strings
        }
        if (s.matchLabels() != null) {
            for (Map.Entry<String, String> l : s.matchLabels().entrySet()) {
                if (!qualifiedName(l.getKey()) || !labelValue(l.getValue())) {
                    return false;
                }
            }
        }
        if (s.matchExpressions() != null) {
            for (Expression x : s.matchExpressions()) {
                int values = x.values() == null ? 0 : x.values().size();
                boolean operatorOk = switch (x.operator()) {
                    case "In", "NotIn" -> values > 0;
                    case "Exists", "DoesNotExist" -> values == 0;
                    default -> false;
                };
                if (!operatorOk || !qualifiedName(x.key())) {
                    return false;
                }
                if (x.values() != null && !x.values().stream().allMatch(KubernetesSelectors::labelValue)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Every field the entry has holds for the pod (only asked of valid entries). */
    static boolean selects(Entry e, Workload pod) {
        boolean namespace = e.namespace() != null ? e.namespace().equals(pod.namespace())
                : matches(e.namespaceSelector(), pod.namespaceLabels());
        boolean account = e.serviceAccount() == null || e.serviceAccount().equals(pod.serviceAccount());
        boolean labels = e.podSelector() == null || matches(e.podSelector(), pod.podLabels());
        return namespace && account && labels;
    }

    static boolean matches(Selector s, Map<String, String> labels) {
        if (s.matchLabels() != null) {
            for (Map.Entry<String, String> l : s.matchLabels().entrySet()) {
                if (!labels.containsKey(l.getKey()) || !labels.get(l.getKey()).equals(l.getValue())) {
                    return false;
                }
            }
        }
        if (s.matchExpressions() != null) {
            for (Expression x : s.matchExpressions()) {
                String value = labels.get(x.key());
                boolean has = labels.containsKey(x.key());
                boolean holds = switch (x.operator()) {
                    case "In" -> has && x.values().contains(value);
                    case "NotIn" -> !has || !x.values().contains(value);
                    case "Exists" -> has;
                    default -> !has; // DoesNotExist
                };
                if (!holds) {
                    return false;
                }
            }
        }
        return true;
    }

    /** IsQualifiedName: an optional prefix (a DNS subdomain) and "/", then a name; exactly one "/" at most. */
    static boolean qualifiedName(String key) {
        String[] parts = key.split("/", -1);
        if (parts.length == 1) {
            return name(parts[0]);
        }
        return parts.length == 2 && !parts[0].isEmpty() && dns1123Subdomain(parts[0]) && name(parts[1]);
    }

    /** A label name: 1-63 characters of [A-Za-z0-9-_.], the first and last alphanumeric. */
    static boolean name(String s) {
        if (s.isEmpty() || s.length() > 63 || !alnum(s.charAt(0)) || !alnum(s.charAt(s.length() - 1))) {
            return false;
        }
        return s.chars().allMatch(c -> alnum(c) || c == '-' || c == '_' || c == '.');
    }

    /** IsValidLabelValue: empty, or a name. */
    static boolean labelValue(String s) {
        return s.isEmpty() || name(s);
    }

    /** IsDNS1123Label: 1-63 of [a-z0-9-], first and last [a-z0-9]. */
    static boolean dns1123Label(String s) {
        if (s.isEmpty() || s.length() > 63 || !lowerAlnum(s.charAt(0)) || !lowerAlnum(s.charAt(s.length() - 1))) {
            return false;
        }
        return s.chars().allMatch(c -> lowerAlnum(c) || c == '-');
    }

    /** IsDNS1123Subdomain: at most 253 characters, dot-separated DNS labels (each label's own 63 not checked). */
    static boolean dns1123Subdomain(String s) {
        if (s.isEmpty() || s.length() > 253) {
            return false;
        }
        for (String label : s.split("\\.", -1)) {
            if (label.isEmpty() || !lowerAlnum(label.charAt(0)) || !lowerAlnum(label.charAt(label.length() - 1))
                    || !label.chars().allMatch(c -> lowerAlnum(c) || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static boolean alnum(int c) {
        return lowerAlnum(c) || (c >= 'A' && c <= 'Z');
    }

    private static boolean lowerAlnum(int c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    private static String labelsYaml(Map<String, String> labels) {
        StringBuilder sb = new StringBuilder("{");
        int i = 0;
        for (Map.Entry<String, String> l : labels.entrySet()) {
            sb.append(i++ == 0 ? "" : ", ").append(quote(l.getKey())).append(": ").append(quote(l.getValue()));
        }
        return sb.append('}').toString();
    }

    /** A YAML double-quoted scalar that reads back as exactly {@code s}: anything but printable ASCII escaped. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c == '"' || c == '\\') {
                sb.append('\\').append((char) c);
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else if (c <= 0xffff) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.append(String.format("\\U%08x", c));
            }
        });
        return sb.append('"').toString();
    }
}
