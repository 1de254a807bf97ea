package io.meshegress.identity;

import io.meshegress.policy.Workload;

/** What the cluster says about a client address at the moment a connection is accepted. */
public sealed interface ClientIdentity {

    /** A running pod holds the address. */
    record Pod(Workload workload) implements ClientIdentity {
    }

    /** No pod holds it (a VM, a node, a CI runner), or no watch names clients at all. */
    record NoPod() implements ClientIdentity {
    }

    /** The first full list of pods has not arrived: nobody can be named yet. */
    record NotReady() implements ClientIdentity {
    }

    ClientIdentity NO_POD = new NoPod();
    ClientIdentity NOT_READY = new NotReady();

    /** The workload, or null when the address is no known pod. */
    default Workload workloadOrNull() {
        return this instanceof Pod p ? p.workload() : null;
    }
}
