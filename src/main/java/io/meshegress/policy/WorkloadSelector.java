package io.meshegress.policy;

/**
 * One entry of a role's {@code workloads}: every field it has must match (a namespace by name or by its labels,
 * optionally a service account, optionally a pod label selector). Immutable.
 *
 * @param namespace         the namespace's name, or null when {@code namespaceSelector} selects it
 * @param namespaceSelector the namespace's labels, or null when {@code namespace} names it
 * @param serviceAccount    the pod's service account, or null for any
 * @param podSelector       the pod's labels ({@link LabelSelector#EVERYTHING} for any pod)
 */
public record WorkloadSelector(String namespace, LabelSelector namespaceSelector, String serviceAccount,
                               LabelSelector podSelector) {
    public WorkloadSelector {
        if ((namespace == null) == (namespaceSelector == null)) {
            throw new IllegalArgumentException("a workloads entry names a namespace or selects namespaces, one of both");
        }
        if (podSelector == null) {
            podSelector = LabelSelector.EVERYTHING;
        }
    }

    public boolean matches(Workload w) {
        boolean ns = namespace != null ? namespace.equals(w.namespace())
                : namespaceSelector.matches(w.namespaceLabels());
        return ns && (serviceAccount == null || serviceAccount.equals(w.serviceAccount()))
                && podSelector.matches(w.podLabels());
    }
}
