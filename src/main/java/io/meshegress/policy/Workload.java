package io.meshegress.policy;

import java.util.Map;

/**
 * A client as the cluster names it: the pod that holds its address, the pod's namespace and service account, the
 * pod's labels and its namespace's labels. What a role's {@code workloads} entries select on. Immutable.
 */
public record Workload(String namespace, String pod, String serviceAccount, Map<String, String> podLabels,
                       Map<String, String> namespaceLabels) {
    public Workload {
        podLabels = Map.copyOf(podLabels);
        namespaceLabels = Map.copyOf(namespaceLabels);
    }

    /** {@code namespace/pod}, as messages name it. */
    @Override
    public String toString() {
        return namespace + "/" + pod;
    }
}
