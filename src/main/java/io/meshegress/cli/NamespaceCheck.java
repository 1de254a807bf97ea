package io.meshegress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.EgressConfig;
import io.meshegress.mesh.MeshSimulation;
import io.meshegress.mesh.NetworkPolicyEvaluator;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * {@code check --namespace NS HOST[:PORT]}: would a pod of NS reach HOST:PORT, across the layers, as
 * {@link MeshSimulation} traces it through the generated objects: the mesh's route (or, in ambient mode, the
 * proxy variables), the Sidecar's registry, the policies at both ends of every hop, and the proxy's own rule.
 * The cluster it assumes is said first (the dataplane and CNI of the file, DNS from mesh.enforce.dns, Istio's
 * default visibility); the last line is the answer ({@code => reaches ...} or {@code => refused ...}), and for
 * an enforced namespace the paths the objects cannot close follow it. The host {@code dns} stands for the
 * cluster's DNS; {@code NAME.NAMESPACE.svc} for a Service of the cluster; any other name for a public address.
 */
final class NamespaceCheck {
    private final EgressConfig cfg;
    private final RouteTable routes;
    private final List<ObjectNode> manifests;

    NamespaceCheck(EgressConfig cfg, RouteTable routes, List<ObjectNode> manifests) {
        this.cfg = cfg;
        this.routes = routes;
        this.manifests = manifests;
    }

    /** The answer for one destination, its reasons first, then the {@code =>} line. */
    void explain(String ns, String host, int port, String protocol, PrintWriter out) {
        out.println("from a pod of namespace " + ns + " to " + host + ":" + port + "/" + protocol + ":");
        EgressConfig.Enforce enforce = cfg.mesh().enforce();
        boolean cilium = enforce != null && enforce.cni() == EgressConfig.Cni.CILIUM;
        boolean nodeLocal = enforce != null && !enforce.dns().addresses().isEmpty();
        EgressConfig.Dataplane dataplane = cfg.mesh().dataplane();
        out.println("  assumes: dataplane " + dataplane.name().toLowerCase(java.util.Locale.ROOT)
                + " (mesh.dataplane), " + (cilium ? "a cilium-like CNI (CIDR rules match only outside the cluster)"
                : "a calico-like CNI (an ipBlock matches any address)") + ", DNS from "
                + (nodeLocal ? "NodeLocal DNSCache on the node" : "the DNS pods") + ", and Istio's default "
                + "visibility of every namespace for objects without exportTo");
        if (enforce == null || !enforce.namespaces().contains(ns)) {
            out.println("  mesh.enforce does not list " + ns + ": no NetworkPolicy from mesh-egress applies");
        }
        MeshSimulation sim = new MeshSimulation(manifests, new MeshSimulation.Cluster(
                cilium ? NetworkPolicyEvaluator.Semantics.CILIUM_LIKE : NetworkPolicyEvaluator.Semantics.CALICO_LIKE,
                nodeLocal ? MeshSimulation.ClusterDns.NODE_LOCAL : MeshSimulation.ClusterDns.KUBE_DNS,
                MeshSimulation.Visibility.ALL, dataplane, services(host)), this::proxyRule);
        MeshSimulation.Answer a = sim.trace(ns, host, port, protocol);
        a.steps().forEach(s -> out.println("  " + s));
        out.println(switch (a.outcome()) {
            case VIA_PROXY -> "=> reaches " + host + ":" + port + " through the proxy";
            case DIRECT -> "=> reaches it directly";
            case REFUSED_BY_PROXY -> "=> refused by the proxy";
            case BLOCKED -> "=> refused: " + a.steps().get(a.steps().size() - 1);
        });
        if (enforce != null && enforce.namespaces().contains(ns)) {
            remainingPaths(enforce, dataplane, out);
        }
    }

    /** What no object of mesh-egress can close, said so that no one takes the answer for more than it is. */
    private static void remainingPaths(EgressConfig.Enforce enforce, EgressConfig.Dataplane dataplane,
                                       PrintWriter out) {
        out.println("  paths these objects do not close:");
        out.println("    DNS: the cluster's resolver answers any name and asks the internet for it; queries can "
                + "carry data out");
        out.println("    every pod of the cluster is reachable: a pod that forwards (another proxy, a NAT gateway, "
                + "a pod with egress of its own) is a way around the proxy");
        if (!enforce.allowCidrs().isEmpty() || !enforce.peers().isEmpty()) {
            out.println("    allowCidrs and peers are reached directly, and whatever forwards there");
        }
        if (dataplane == EgressConfig.Dataplane.SIDECAR && enforce.registryOnly()) {
            out.println("    a pod without a sidecar (sidecar.istio.io/inject: \"false\") or running as the "
                    + "sidecar's UID escapes REGISTRY_ONLY; the NetworkPolicies still hold");
            out.println("    the file cannot know the cluster's Sidecars: Istio's behaviour is undefined with two "
                    + "Sidecars without workloadSelector in one namespace, so if `kubectl get sidecars -n NS` lists "
                    + "one, set mesh.enforce.istio: off and give that one outboundTrafficPolicy REGISTRY_ONLY");
        }
        if (dataplane == EgressConfig.Dataplane.AMBIENT) {
            out.println("    a client that ignores HTTP_PROXY/HTTPS_PROXY is refused, not proxied");
        }
    }

    /** A Service of the cluster that the host names: the API server, or a pod of its namespace. */
    private static Map<String, NetworkPolicyEvaluator.Peer> services(String host) {
        String[] labels = host.split("\\.");
        if (labels.length < 3 || !labels[2].equals("svc")) {
            return Map.of();
        }
        if (labels[0].equals("kubernetes") && labels[1].equals("default")) {
            return Map.of(host, new NetworkPolicyEvaluator.Peer(null, null, NetworkPolicyEvaluator.Where.API_SERVER));
        }
        return Map.of(host, new NetworkPolicyEvaluator.Peer(null, new NetworkPolicyEvaluator.Pod(labels[1], Map.of()),
                NetworkPolicyEvaluator.Where.POD));
    }

    private MeshSimulation.ProxyVerdict proxyRule(String host, int port, MeshSimulation.Via via) {
        Destination.Kind kind = switch (via) {
            case HTTP -> Destination.Kind.HTTP;
            case SNI -> Destination.Kind.SNI;
            case CONNECT -> Destination.Kind.CONNECT;
        };
        RouteTable.Verdict v = routes.decide((InetAddress) null, kind, host, port);
        return new MeshSimulation.ProxyVerdict(v.allowed(), v.toString());
    }
}
