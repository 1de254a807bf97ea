package io.meshegress.identity;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import io.meshegress.policy.Workload;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client address to pod, and namespace to its labels: what the watch keeps, and nothing more. Events come from
 * one informer thread each; lookups from every event loop. An address belongs to the pod that claimed it last,
 * and only that pod releases it, so a deleted pod's late event never takes an address from the pod that got it
 * next.
 */
public final class PodDirectory {

    /** What one address names: the pod's facts without its addresses. */
    private record Holder(String uid, String namespace, String name, String serviceAccount,
                          Map<String, String> labels) {
    }

    /**
     * Equal values kept once: the replicas of a Deployment carry the same labels, and a cluster has few namespaces
     * and service accounts. Weak, so what no pod holds any more goes with the garbage.
     */
    private final Interner<Object> shared = Interners.newWeakInterner();
    private final ConcurrentHashMap<InetAddress, Holder> byAddress = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, List<InetAddress>> addressesByUid = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Map<String, String>> namespaceLabels = new ConcurrentHashMap<>();

    /** A pod was added or changed (or listed again). */
    public void podChanged(PodFacts pod) {
        List<InetAddress> now = pod.holdsAddresses() ? parse(pod.addresses()) : List.of();
        List<InetAddress> before = addressesByUid.getOrDefault(pod.uid(), List.of());
        for (InetAddress a : before) {
            if (!now.contains(a)) {
                byAddress.computeIfPresent(a, (k, h) -> h.uid().equals(pod.uid()) ? null : h);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, String> labels = (Map<String, String>) shared.intern(pod.labels());
        Holder h = new Holder(pod.uid(), (String) shared.intern(pod.namespace()), pod.name(),
                (String) shared.intern(pod.serviceAccount()), labels);
        for (InetAddress a : now) {
            byAddress.put(a, h);
        }
        if (now.isEmpty()) {
            addressesByUid.remove(pod.uid());
        } else {
            addressesByUid.put(pod.uid(), now);
        }
    }

    /** A pod is gone: its addresses are released, unless another pod holds them already. */
    public void podDeleted(String uid) {
        List<InetAddress> held = addressesByUid.remove(uid);
        if (held != null) {
            for (InetAddress a : held) {
                byAddress.computeIfPresent(a, (k, h) -> h.uid().equals(uid) ? null : h);
            }
        }
    }

    public void namespaceChanged(String name, Map<String, String> labels) {
        namespaceLabels.put(name, Map.copyOf(labels));
    }

    public void namespaceDeleted(String name) {
        namespaceLabels.remove(name);
    }

    /** The workload at this address now, or null. */
    public Workload workload(InetAddress address) {
        Holder h = byAddress.get(address);
        if (h == null) {
            return null;
        }
        return new Workload(h.namespace(), h.name(), h.serviceAccount(), h.labels(),
                namespaceLabels.getOrDefault(h.namespace(), Map.of()));
    }

    /** A namespace's labels as last seen (empty when unknown). */
    public Map<String, String> namespaceLabels(String namespace) {
        return namespaceLabels.getOrDefault(namespace, Map.of());
    }

    /** Addresses that name a pod (for the tests and the heap measurement). */
    public int size() {
        return byAddress.size();
    }

    private static List<InetAddress> parse(List<String> addresses) {
        return addresses.stream().filter(a -> a != null && (NetUtil.isValidIpV4Address(a) || NetUtil.isValidIpV6Address(a)))
                .map(a -> (InetAddress) NetUtil.createInetAddressFromIpAddressString(a)).distinct().toList();
    }
}
