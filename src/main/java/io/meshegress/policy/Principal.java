package io.meshegress.policy;

/**
 * Who a request's verified credential says it is: a Basic user of identity.basic, or the service account of a
 * Kubernetes token (a {@link Workload} with its namespace and service account, no pod and no pod labels).
 */
public sealed interface Principal {

    /** A user of the htpasswd file. */
    record User(String name) implements Principal {
        @Override
        public String logName() {
            return name;
        }
    }

    /**
     * A service account, as the token review named it.
     *
     * @param workload its namespace, service account and the namespace's labels; pod null, pod labels empty
     */
    record ServiceAccount(Workload workload) implements Principal {
        /** {@code system:serviceaccount:NS:SA}, as Kubernetes names the account's user. */
        public String userName() {
            return "system:serviceaccount:" + workload.namespace() + ":" + workload.serviceAccount();
        }

        @Override
        public String logName() {
            return userName();
        }
    }

    /** The user name the access log writes. */
    String logName();
}
