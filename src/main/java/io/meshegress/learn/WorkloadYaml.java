package io.meshegress.learn;

import io.meshegress.policy.LabelSelector;
import io.meshegress.policy.WorkloadSelector;
import java.util.ArrayList;
import java.util.List;

/**
 * A role's {@code workloads} entry written back as the loader reads it, in YAML flow style with every name
 * quoted (a namespace may be called {@code null} or {@code true}). Label selectors are written in their
 * Kubernetes form, {@code matchExpressions}, which also says what {@code matchLabels} said ({@code key In [value]}).
 */
final class WorkloadYaml {
    private WorkloadYaml() {
    }

    static String entry(WorkloadSelector w) {
        List<String> fields = new ArrayList<>();
        if (w.namespace() != null) {
            fields.add("namespace: " + quoted(w.namespace()));
        } else {
            fields.add("namespaceSelector: " + selector(w.namespaceSelector()));
        }
        if (w.serviceAccount() != null) {
            fields.add("serviceAccount: " + quoted(w.serviceAccount()));
        }
        if (!w.podSelector().requirements().isEmpty()) {
            fields.add("podSelector: " + selector(w.podSelector()));
        }
        return "{" + String.join(", ", fields) + "}";
    }

    static String entries(List<WorkloadSelector> workloads) {
        return "[" + String.join(", ", workloads.stream().map(WorkloadYaml::entry).toList()) + "]";
    }

    /** Names, label keys and values: none can hold a quote or a backslash, so quoting is plain. */
    static String quoted(String s) {
        return "\"" + s + "\"";
    }

    private static String selector(LabelSelector s) {
        if (s.requirements().isEmpty()) {
            return "{}";
        }
        List<String> expressions = new ArrayList<>();
        for (LabelSelector.Requirement r : s.requirements()) {
            String values = r.values().isEmpty() ? "" : ", values: [" + String.join(", ",
                    r.values().stream().sorted().map(WorkloadYaml::quoted).toList()) + "]";
            expressions.add("{key: " + quoted(r.key()) + ", operator: " + r.operator().spelling() + values + "}");
        }
        return "{matchExpressions: [" + String.join(", ", expressions) + "]}";
    }
}
