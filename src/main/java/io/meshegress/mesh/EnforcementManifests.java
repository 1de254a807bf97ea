package io.meshegress.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Cidr;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * mesh.enforce with {@code cni: generic}: NetworkPolicies (networking.k8s.io/v1) that make the proxy the only way
 * out of the cluster for the enforced namespaces, and the Sidecar that keeps their sidecars from passing unknown
 * hosts through.
 *
 * <p>Per enforced namespace, egress only to: DNS, the mesh's control plane (sidecars only), the proxy on its
 * listener ports, every pod of the cluster (selected by {@code namespaceSelector: {}}, which matches pods on every
 * CNI, where an ipBlock of the pod range matches nothing on Cilium), {@code peers} and {@code allowCidrs}. No UDP
 * to the internet (QUIC falls back to TCP through the proxy), no direct TCP to it.
 *
 * <p>In-cluster, a NetworkPolicy for the proxy's pods: ingress on its listener ports from every namespace that
 * sees the routes (mesh.exportTo), on the admin port only from mesh.monitoring.namespaces (the pod's own node,
 * where kubelet probes come from, is always allowed: Kubernetes NetworkPolicy docs, "Isolated and Non-isolated
 * Pods"); egress to DNS and anywhere but allowCidrs, so the proxy is no way in.
 */
final class EnforcementManifests {
    static final String NAMESPACE_LABEL = "kubernetes.io/metadata.name";
    static final String CLIENTS_POLICY = "mesh-egress-enforce";
    static final String PROXY_POLICY = "mesh-egress-proxy";
    static final String SIDECAR = "mesh-egress-registry-only";

    private final EgressConfig config;
    private final EgressConfig.Enforce enforce;
    private final List<Integer> listenerPorts;

    EnforcementManifests(EgressConfig config, List<ProxyPorts.ProxyPort> ports) {
        this.config = config;
        this.enforce = config.mesh().enforce();
        this.listenerPorts = listenerPorts(ports);
    }

    static List<Integer> listenerPorts(List<ProxyPorts.ProxyPort> ports) {
        TreeSet<Integer> targets = new TreeSet<>();
        ports.forEach(p -> targets.add(p.targetPort()));
        return List.copyOf(targets);
    }

    List<ObjectNode> all() {
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : enforce.namespaces()) {
            out.add(clientsPolicy(ns));
        }
        out.addAll(sidecars(config));
        if (config.mesh().proxy().addresses().isEmpty()) {
            out.add(proxyPolicy());
        }
        return out;
    }

    private boolean sidecarDataplane() {
        return config.mesh().dataplane() == EgressConfig.Dataplane.SIDECAR;
    }

    private ObjectNode clientsPolicy(String ns) {
        ObjectNode np = ManifestGenerator.object("networking.k8s.io/v1", "NetworkPolicy", CLIENTS_POLICY, ns);
        ObjectNode spec = np.putObject("spec");
        spec.putObject("podSelector");
        spec.putArray("policyTypes").add("Egress");
        ArrayNode egress = spec.putArray("egress");
        peerRule(egress, enforce.dns(), true);
        if (sidecarDataplane()) {
            peerRule(egress, enforce.controlPlane(), false);
        }
        ObjectNode proxy = egress.addObject();
        ArrayNode to = proxy.putArray("to");
        if (config.mesh().proxy().addresses().isEmpty()) {
            ObjectNode p = to.addObject();
            p.putObject("namespaceSelector").putObject("matchLabels").put(NAMESPACE_LABEL, config.mesh().namespace());
            p.putObject("podSelector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        } else {
            for (InetAddress a : config.mesh().proxy().addresses()) {
                to.addObject().putObject("ipBlock").put("cidr", a.getHostAddress() + (a.getAddress().length == 4
                        ? "/32" : "/128"));
            }
        }
        tcpPorts(proxy.putArray("ports"), listenerPorts);
        // Every pod of the cluster, on any port (in ambient mode that includes HBONE, 15008): in-cluster Services
        // stay reachable. A selector, not the pod range: Cilium never matches pods with an ipBlock.
        egress.addObject().putArray("to").addObject().putObject("namespaceSelector");
        for (EgressConfig.Peer peer : enforce.peers()) {
            peerRule(egress, peer, false);
        }
        if (!enforce.allowCidrs().isEmpty()) {
            ArrayNode direct = egress.addObject().putArray("to");
            enforce.allowCidrs().forEach(c -> direct.addObject().putObject("ipBlock").put("cidr", c.toString()));
        }
        return np;
    }

    /**
     * REGISTRY_ONLY keeps a sidecar from passing hosts it does not know straight through; importing every
     * namespace ({@code *}/{@code *}) keeps every in-mesh Service known, so that only unregistered external
     * hosts fall into the BlackHoleCluster. Istio allows one Sidecar without workloadSelector per namespace.
     */
    static List<ObjectNode> sidecars(EgressConfig config) {
        EgressConfig.Enforce enforce = config.mesh().enforce();
        if (!enforce.registryOnly() || config.mesh().dataplane() != EgressConfig.Dataplane.SIDECAR) {
            return List.of();
        }
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : enforce.namespaces()) {
            ObjectNode sc = ManifestGenerator.object("networking.istio.io/v1", "Sidecar", SIDECAR, ns);
            ObjectNode spec = sc.putObject("spec");
            spec.putArray("egress").addObject().putArray("hosts").add("*/*");
            spec.putObject("outboundTrafficPolicy").put("mode", "REGISTRY_ONLY");
            out.add(sc);
        }
        return out;
    }

    private ObjectNode proxyPolicy() {
        ObjectNode np = ManifestGenerator.object("networking.k8s.io/v1", "NetworkPolicy", PROXY_POLICY,
                config.mesh().namespace());
        ObjectNode spec = np.putObject("spec");
        spec.putObject("podSelector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        spec.putArray("policyTypes").add("Ingress").add("Egress");
        ArrayNode ingress = spec.putArray("ingress");
        ObjectNode clients = ingress.addObject();
        ObjectNode from = clients.putArray("from").addObject();
        List<String> seers = routeNamespaces(config);
        if (seers.isEmpty()) {
            from.putObject("namespaceSelector"); // every namespace sees the routes
        } else {
            ObjectNode expression = from.putObject("namespaceSelector").putArray("matchExpressions").addObject();
            expression.put("key", NAMESPACE_LABEL).put("operator", "In");
            seers.forEach(expression.putArray("values")::add);
        }
        tcpPorts(clients.putArray("ports"), listenerPorts);
        if (!config.mesh().scraperNamespaces().isEmpty()) {
            ObjectNode scrape = ingress.addObject();
            ObjectNode expression = scrape.putArray("from").addObject().putObject("namespaceSelector")
                    .putArray("matchExpressions").addObject();
            expression.put("key", NAMESPACE_LABEL).put("operator", "In");
            config.mesh().scraperNamespaces().forEach(expression.putArray("values")::add);
            tcpPorts(scrape.putArray("ports"), List.of(ManifestGenerator.ADMIN_PORT));
        }
        ArrayNode egress = spec.putArray("egress");
        peerRule(egress, enforce.dns(), true);
        ArrayNode anywhere = egress.addObject().putArray("to");
        world(anywhere, "0.0.0.0/0", 4);
        world(anywhere, "::/0", 16);
        return np;
    }

    /**
     * The namespaces whose workloads see the routes to the proxy (mesh.exportTo, "." being the proxy's own), or
     * empty when every namespace does.
     */
    static List<String> routeNamespaces(EgressConfig config) {
        TreeSet<String> out = new TreeSet<>();
        for (String e : config.mesh().exportTo()) {
            if (e.equals("*")) {
                return List.of();
            }
            out.add(e.equals(".") ? config.mesh().namespace() : e);
        }
        return List.copyOf(out);
    }

    /** The whole address family but allowCidrs of that family. */
    private void world(ArrayNode to, String all, int family) {
        ObjectNode block = to.addObject().putObject("ipBlock");
        block.put("cidr", all);
        List<Cidr> except = enforce.allowCidrs().stream().filter(c -> c.network().length == family).toList();
        if (!except.isEmpty()) {
            ArrayNode e = block.putArray("except");
            except.forEach(c -> e.add(c.toString()));
        }
    }

    /**
     * One rule for a peer: its pods by selector, its addresses by ipBlock (what no selector matches: NodeLocal
     * DNSCache on the node's link-local address, host-network pods, a control plane outside the cluster), on
     * its ports; DNS on UDP and TCP.
     */
    private static void peerRule(ArrayNode egress, EgressConfig.Peer peer, boolean udpToo) {
        ObjectNode rule = egress.addObject();
        ArrayNode to = rule.putArray("to");
        if (peer.hasPods()) {
            ObjectNode p = to.addObject();
            p.putObject("namespaceSelector").putObject("matchLabels").put(NAMESPACE_LABEL, peer.namespace());
            ObjectNode labels = p.putObject("podSelector").putObject("matchLabels");
            new TreeMap<>(peer.podLabels()).forEach(labels::put);
        }
        peer.addresses().forEach(c -> to.addObject().putObject("ipBlock").put("cidr", c.toString()));
        if (!peer.ports().isEmpty()) {
            ArrayNode ports = rule.putArray("ports");
            for (int p : peer.ports()) {
                if (udpToo) {
                    ports.addObject().put("protocol", "UDP").put("port", p);
                }
                ports.addObject().put("protocol", "TCP").put("port", p);
            }
        }
    }

    private static void tcpPorts(ArrayNode ports, List<Integer> numbers) {
        numbers.forEach(p -> ports.addObject().put("protocol", "TCP").put("port", p));
    }
}
