package io.meshegress.config;

import io.meshegress.policy.LabelSelector;
import io.meshegress.policy.WorkloadSelector;
import io.meshegress.text.Quote;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A role's {@code workloads}: each entry a namespace (by name or by labels), optionally a service account and a
 * pod selector. A selector is written as Kubernetes writes one ({@code matchLabels}, {@code matchExpressions}),
 * or as a plain mapping of labels, which is {@code matchLabels} shortened.
 */
final class WorkloadReader extends YamlValueReader {
    private static final Set<String> SELECTOR_KEYS = Set.of("matchLabels", "matchExpressions");
    private static final Set<String> EXPRESSION_KEYS = Set.of("key", "operator", "values");
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private final EgressConfig.Identity identity;
    private final String role;

    /** @param identity what names clients (pods for workloads, identity.basic for users); {@code role} for messages */
    WorkloadReader(String file, EgressConfig.Identity identity, String role) {
        super(file);
        this.identity = identity;
        this.role = role;
    }

    List<WorkloadSelector> workloads(YamlNode node) throws ConfigException {
        return list(node, this::workload);
    }

    private WorkloadSelector workload(YamlNode n) throws ConfigException {
        Fields w = fields(n, ConfigSection.WORKLOAD);
        if (w.has("user")) {
            return user(n, w);
        }
        if (identity.kubernetes() == null) {
            throw at(n, "role " + role + " selects workloads, but no identity.kubernetes names the pods (add "
                    + "identity: {kubernetes: {}} in the cluster, or kubernetes: {kubeconfig: FILE} outside it)");
        }
        if (w.has("namespace") == w.has("namespaceSelector")) {
            throw at(n, "a workloads entry needs namespace (e.g. namespace: payments) or namespaceSelector "
                    + "(e.g. namespaceSelector: {team: pay}), one of both");
        }
        String namespace = w.has("namespace") ? dnsLabel(w.get("namespace"), "a namespace") : null;
        LabelSelector namespaceSelector = w.has("namespaceSelector") ? selector(w.get("namespaceSelector")) : null;
        String serviceAccount = null;
        if (w.has("serviceAccount")) {
            serviceAccount = string(w.get("serviceAccount"));
            if (serviceAccount.length() > 253 || !SUBDOMAIN.matcher(serviceAccount).matches()) {
                throw at(w.get("serviceAccount"), Quote.shortly(serviceAccount) + " is not a service account name "
                        + "(lower-case letters, digits, - and .)");
            }
        }
        LabelSelector podSelector = w.has("podSelector") ? selector(w.get("podSelector")) : LabelSelector.EVERYTHING;
        return new WorkloadSelector(namespace, namespaceSelector, serviceAccount, podSelector);
    }

    /** {@code user: NAME} alone: a Basic user of identity.basic. */
    private WorkloadSelector user(YamlNode n, Fields w) throws ConfigException {
        for (String other : List.of("namespace", "namespaceSelector", "serviceAccount", "podSelector")) {
            if (w.has(other)) {
                throw at(w.get(other), "a workloads entry with user names a Basic user alone; write " + other
                        + " in an entry of its own");
            }
        }
        if (identity.basic() == null) {
            throw at(w.get("user"), "role " + role + " selects a Basic user, but there is no identity.basic (add "
                    + "identity: {basic: {file: HTPASSWD}})");
        }
        String user = string(w.get("user"));
        String problem = HtpasswdFile.userProblem(user);
        if (problem != null) {
            throw at(w.get("user"), problem);
        }
        return WorkloadSelector.user(user);
    }

    /** A label selector in either form; {@code {}} selects everything, as in Kubernetes. */
    private LabelSelector selector(YamlNode node) throws ConfigException {
        YamlNode.Mapping m = mapping(node);
        Map<String, YamlNode.Entry> entries = m.entries();
        boolean kubernetesForm = entries.keySet().stream().anyMatch(SELECTOR_KEYS::contains);
        if (kubernetesForm) {
            for (YamlNode.Entry e : entries.values()) {
                if (!SELECTOR_KEYS.contains(e.key())) {
                    throw new ConfigException(file, e.keyPosition().line(), e.keyPosition().column(),
                            m.path() + "." + e.key(), "unknown key beside matchLabels and matchExpressions (write "
                            + "every label under matchLabels, or a plain mapping of labels alone)");
                }
            }
        }
        YamlNode labelsNode = kubernetesForm ? (entries.containsKey("matchLabels")
                ? entries.get("matchLabels").value() : null) : m;
        Map<String, String> labels = new LinkedHashMap<>();
        if (labelsNode != null && !(labelsNode instanceof YamlNode.Null)) {
            for (YamlNode.Entry e : mapping(labelsNode).entries().values()) {
                try {
                    LabelSelector.checkKey(e.key());
                } catch (IllegalArgumentException bad) {
                    throw new ConfigException(file, e.keyPosition().line(), e.keyPosition().column(),
                            e.value().path(), bad.getMessage());
                }
                labels.put(e.key(), string(e.value()));
            }
        }
        List<LabelSelector.Requirement> expressions = new ArrayList<>();
        if (kubernetesForm && entries.containsKey("matchExpressions")) {
            expressions = list(entries.get("matchExpressions").value(), this::requirement);
        }
        try {
            return LabelSelector.of(labels, expressions);
        } catch (IllegalArgumentException e) {
            throw at(node, e.getMessage());
        }
    }

    private LabelSelector.Requirement requirement(YamlNode node) throws ConfigException {
        YamlNode.Mapping m = mapping(node);
        for (YamlNode.Entry e : m.entries().values()) {
            if (!EXPRESSION_KEYS.contains(e.key())) {
                throw new ConfigException(file, e.keyPosition().line(), e.keyPosition().column(),
                        m.path() + "." + e.key(), "unknown key (a match expression has key, operator and values)");
            }
        }
        if (!m.entries().containsKey("key") || !m.entries().containsKey("operator")) {
            throw at(node, "a match expression needs key and operator (e.g. {key: tier, operator: In, values: [web]})");
        }
        YamlNode keyNode = m.entries().get("key").value();
        String key = string(keyNode);
        YamlNode opNode = m.entries().get("operator").value();
        LabelSelector.Operator op = parseScalar(opNode, LabelSelector.Operator::named);
        Set<String> values = new LinkedHashSet<>();
        if (m.entries().containsKey("values")) {
            values.addAll(list(m.entries().get("values").value(), this::string));
        }
        try {
            LabelSelector.of(Map.of(), List.of(new LabelSelector.Requirement(key, op, values)));
        } catch (IllegalArgumentException e) {
            throw at(node, e.getMessage());
        }
        return new LabelSelector.Requirement(key, op, values);
    }
}
