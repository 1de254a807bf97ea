package io.meshegress.identity;

import java.util.List;
import java.util.Map;

/**
 * The part of a Pod object the decision needs, taken from it as it arrives (the Pod itself is not kept).
 *
 * @param uid         metadata.uid: an address is released only by the pod that holds it
 * @param addresses   status.podIPs (both families on a dual-stack pod), or status.podIP
 * @param hostNetwork spec.hostNetwork: such a pod's address is its node's, never an identity
 * @param finished    status.phase Succeeded or Failed: the pod no longer holds its addresses
 */
public record PodFacts(String uid, String namespace, String name, String serviceAccount, Map<String, String> labels,
                       List<String> addresses, boolean hostNetwork, boolean finished) {
    public PodFacts {
        labels = Map.copyOf(labels);
        addresses = List.copyOf(addresses);
    }

    /** Whether this pod names its addresses: running (or pending with an address) on the pod network. */
    public boolean holdsAddresses() {
        return !hostNetwork && !finished;
    }
}
