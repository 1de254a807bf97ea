package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.policy.Workload;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The address map at the edges Kubernetes defines: status.podIPs holds one address per family on a dual-stack
 * pod; a pod in phase Succeeded or Failed has terminated and its address may be given to another pod; a
 * hostNetwork pod's address is its node's; informers deliver the delete of an old pod and the add of a new one
 * with the same address in either order.
 */
class PodDirectoryTest {
    final PodDirectory directory = new PodDirectory();

    static PodFacts pod(String uid, String ns, List<String> ips, boolean hostNetwork, boolean finished) {
        return new PodFacts(uid, ns, uid, "sa-" + ns, Map.of("app", uid), ips, hostNetwork, finished);
    }

    static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void aDualStackPodIsNamedByBothAddresses() throws Exception {
        directory.namespaceChanged("pay", Map.of("team", "pay"));
        directory.podChanged(pod("a", "pay", List.of("10.1.0.5", "fd00::5"), false, false));
        Workload v4 = directory.workload(ip("10.1.0.5"));
        Workload v6 = directory.workload(ip("fd00:0:0:0:0:0:0:5"));
        assertThat(v4).isEqualTo(v6);
        assertThat(v4.namespace()).isEqualTo("pay");
        assertThat(v4.serviceAccount()).isEqualTo("sa-pay");
        assertThat(v4.namespaceLabels()).containsEntry("team", "pay");
    }

    @Test
    void aFinishedPodReleasesItsAddresses() throws Exception {
        directory.podChanged(pod("a", "pay", List.of("10.1.0.5"), false, false));
        directory.podChanged(pod("a", "pay", List.of("10.1.0.5"), false, true));
        assertThat(directory.workload(ip("10.1.0.5"))).isNull();
    }

    @Test
    void aHostNetworkPodIsNeverAnIdentity() throws Exception {
        directory.podChanged(pod("node-agent", "kube-system", List.of("192.0.2.10"), true, false));
        assertThat(directory.workload(ip("192.0.2.10"))).isNull();
        assertThat(directory.size()).isZero();
    }

    @Test
    void anAddressGoesToTheNewPodWhicheverEventComesFirst() throws Exception {
        directory.podChanged(pod("old", "pay", List.of("10.1.0.5"), false, false));
        // The new pod's add arrives before the old pod's delete: the late delete must not take the address.
        directory.podChanged(pod("new", "search", List.of("10.1.0.5"), false, false));
        directory.podDeleted("old");
        assertThat(directory.workload(ip("10.1.0.5")).namespace()).isEqualTo("search");
        // And in the usual order.
        directory.podDeleted("new");
        assertThat(directory.workload(ip("10.1.0.5"))).isNull();
        directory.podChanged(pod("newer", "batch", List.of("10.1.0.5"), false, false));
        assertThat(directory.workload(ip("10.1.0.5")).namespace()).isEqualTo("batch");
    }

    @Test
    void anAddressAPodNoLongerHasIsReleasedAndNamespaceLabelsFollowTheirNamespace() throws Exception {
        directory.podChanged(pod("a", "pay", List.of("10.1.0.5"), false, false));
        directory.podChanged(pod("a", "pay", List.of("10.1.0.6"), false, false));
        assertThat(directory.workload(ip("10.1.0.5"))).isNull();
        assertThat(directory.workload(ip("10.1.0.6")).namespaceLabels()).isEmpty();
        directory.namespaceChanged("pay", Map.of("team", "pay"));
        assertThat(directory.workload(ip("10.1.0.6")).namespaceLabels()).containsEntry("team", "pay");
        directory.namespaceDeleted("pay");
        assertThat(directory.workload(ip("10.1.0.6")).namespaceLabels()).isEmpty();
    }

    @Test
    void aPodWithoutAnAddressYetNamesNothing() throws Exception {
        directory.podChanged(pod("pending", "pay", List.of(), false, false));
        assertThat(directory.size()).isZero();
    }
}
