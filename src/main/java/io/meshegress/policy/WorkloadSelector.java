package io.meshegress.policy;

/**
 * One entry of a role's {@code workloads}: every field it has must match (a namespace by name or by its labels,
 * optionally a service account, optionally a pod label selector); or a Basic user alone ({@code user}). Immutable.
 *
 * @param namespace         the namespace's name, or null when {@code namespaceSelector} selects it (or a user)
 * @param namespaceSelector the namespace's labels, or null when {@code namespace} names it (or a user)
 * @param serviceAccount    the pod's service account, or null for any
 * @param podSelector       the pod's labels ({@link LabelSelector#EVERYTHING} for any pod)
 * @param user              a user of identity.basic, or null: the entry selects workloads
 */
public record WorkloadSelector(String namespace, LabelSelector namespaceSelector, String serviceAccount,
                               LabelSelector podSelector, String user) {
    public WorkloadSelector {
        if (podSelector == null) {
            podSelector = LabelSelector.EVERYTHING;
        }
        if (user != null) {
            if (namespace != null || namespaceSelector != null || serviceAccount != null
                    || !podSelector.requirements().isEmpty()) {
                throw new IllegalArgumentException("a workloads entry with a user selects nothing else");
            }
        } else if ((namespace == null) == (namespaceSelector == null)) {
            throw new IllegalArgumentException("a workloads entry names a namespace or selects namespaces, one of both");
        }
    }

    /** An entry that selects workloads. */
    public WorkloadSelector(String namespace, LabelSelector namespaceSelector, String serviceAccount,
                            LabelSelector podSelector) {
        this(namespace, namespaceSelector, serviceAccount, podSelector, null);
    }

    /** {@code user: NAME}: the Basic user of that name. */
    public static WorkloadSelector user(String name) {
        return new WorkloadSelector(null, null, null, null, name);
    }

    /** A pod at the client's address. */
    public boolean matches(Workload w) {
        if (user != null) {
            return false;
        }
        boolean ns = namespace != null ? namespace.equals(w.namespace())
                : namespaceSelector.matches(w.namespaceLabels());
        return ns && (serviceAccount == null || serviceAccount.equals(w.serviceAccount()))
                && podSelector.matches(w.podLabels());
    }

    /**
     * A verified credential. A Basic user matches its user entry; a service-account token proves a namespace and
     * a service account, never a pod's labels, so it matches only entries without a podSelector.
     */
    public boolean matches(Principal p) {
        if (p instanceof Principal.User u) {
            return u.name().equals(user);
        }
        Principal.ServiceAccount sa = (Principal.ServiceAccount) p;
        return user == null && podSelector.requirements().isEmpty() && matches(sa.workload());
    }
}
