package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshegress.config.EgressConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a connection from a pod of a namespace ends, in a cluster described by {@link Cluster}, given the objects
 * {@code istio} wrote: the mesh's layer first (Istio's Sidecar, ServiceEntry, VirtualService and exportTo
 * semantics, or in ambient mode the proxy variables of the workload's environment), then every network hop at
 * both ends ({@link NetworkPolicyEvaluator}: egress at the sender, ingress at the receiver), and at the proxy its
 * own rule ({@link ProxyRules}). Pure; the model {@code check --namespace} and the tests share.
 *
 * <p>Istio semantics modelled (Istio docs: Sidecar, ServiceEntry, VirtualService, "exportTo"): an object is
 * visible to a namespace when its exportTo (for a Service the {@code networking.istio.io/exportTo} annotation)
 * holds "*", that namespace, or "." and the object is in it; with no exportTo the mesh's default applies
 * ({@link Visibility}). A Sidecar without workloadSelector imports the namespaces its egress hosts name; with
 * REGISTRY_ONLY a host outside the sidecar's registry goes to the BlackHoleCluster, with ALLOW_ANY (the mesh
 * default) it passes through to the address asked for. A wildcard host {@code *.a.b} matches names below a.b,
 * not a.b itself. UDP is not captured (DNS proxying off). In ambient mode ztunnel applies no route: only HTTP
 * clients read the proxy variables (ports 80 and 443 stand for http:// and https:// URLs, any other port for a
 * client that reads none), and ztunnel reaches a pod of the mesh on HBONE, port 15008 (Istio docs, "Ambient and
 * Kubernetes NetworkPolicy"), a pod labelled {@code istio.io/dataplane-mode: none} on the port asked for.
 */
public final class MeshSimulation {
    /** The mesh's defaultServiceExportTo, defaultVirtualServiceExportTo and defaultDestinationRuleExportTo. */
    public enum Visibility { ALL, SAME_NAMESPACE }

    /** Where pods send DNS: the kube-dns pods, or NodeLocal DNSCache on their node's link-local address. */
    public enum ClusterDns { KUBE_DNS, NODE_LOCAL }

    public enum Outcome { VIA_PROXY, REFUSED_BY_PROXY, DIRECT, BLOCKED }

    /** How the connection reaches the proxy's listeners. */
    public enum Via { HTTP, SNI, CONNECT }

    /**
     * @param services in-cluster Service names ({@code db.data.svc}) and what stands behind them
     */
    public record Cluster(NetworkPolicyEvaluator.Semantics cni, ClusterDns dns, Visibility visibility,
                          EgressConfig.Dataplane dataplane, Map<String, NetworkPolicyEvaluator.Peer> services) {
        public Cluster {
            services = Map.copyOf(services);
        }
    }

    public record ProxyVerdict(boolean allowed, String reason) {
    }

    /** The proxy's own rule for a request it receives. */
    public interface ProxyRules {
        ProxyVerdict decide(String host, int port, Via via);
    }

    /** The outcome and, in order, why. */
    public record Answer(Outcome outcome, List<String> steps) {
    }

    static final String KUBE_DNS_POD = "10.244.0.10";
    public static final String NODE_LOCAL_DNS = "169.254.20.10";
    /** A documentation address standing for a public name's addresses. */
    public static final String PUBLIC_STAND_IN = "192.0.2.1";
    static final String CLIENT_POD = "10.244.7.7";
    static final String PROXY_POD = "10.244.9.9";

    private final List<? extends JsonNode> objects;
    private final Cluster cluster;
    private final NetworkPolicyEvaluator policies;
    private final ProxyRules proxy;
    private final IstioRegistry registry;

    public MeshSimulation(List<? extends JsonNode> objects, Cluster cluster, ProxyRules proxy) {
        this.objects = List.copyOf(objects);
        this.cluster = cluster;
        this.policies = new NetworkPolicyEvaluator(objects, cluster.cni());
        this.proxy = proxy;
        this.registry = new IstioRegistry(this.objects, cluster.visibility());
    }

    /** From a pod of {@code namespace} to HOST:PORT; the host {@code dns} stands for the cluster's DNS. */
    public Answer trace(String namespace, String host, int port, String protocol) {
        List<String> steps = new ArrayList<>();
        Outcome o = cluster.dataplane() == EgressConfig.Dataplane.AMBIENT
                ? ambient(namespace, host, port, protocol, steps) : sidecar(namespace, host, port, protocol, steps);
        return new Answer(o, List.copyOf(steps));
    }

    // ---- the mesh's layer ------------------------------------------------------------------------------------

    private Outcome sidecar(String ns, String host, int port, String protocol, List<String> steps) {
        if (!protocol.equals("TCP") || host.equals("dns")) {
            steps.add("mesh: " + (host.equals("dns") ? "DNS" : protocol) + " is not captured by the sidecar");
            return direct(ns, host, port, protocol, steps);
        }
        JsonNode sidecar = registry.sidecarOf(ns);
        boolean registryOnly = sidecar != null
                && sidecar.path("spec").path("outboundTrafficPolicy").path("mode").asText().equals("REGISTRY_ONLY");
        String service = serviceName(host);
        if (service != null) {
            String svcNs = host.split("\\.")[1];
            JsonNode svc = find("Service", service, svcNs);
            if (svc == null) { // a Service of the cluster's own, with no exportTo annotation
                svc = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("kind", "Service");
            }
            if (registry.known(svc, svcNs, ns, sidecar)) {
                steps.add("mesh: Service " + svcNs + "/" + service + " is in the sidecar's registry");
                return direct(ns, host, port, protocol, steps);
            }
            return unknown(ns, host, port, protocol, registryOnly, steps);
        }
        for (JsonNode se : objectsOf("ServiceEntry")) {
            String seProtocol = IstioRegistry.entryPort(se, host, port);
            if (seProtocol == null || !registry.known(se, namespaceOf(se), ns, sidecar)) {
                continue;
            }
            for (JsonNode vs : objectsOf("VirtualService")) {
                if (!registry.known(vs, namespaceOf(vs), ns, sidecar) || !IstioRegistry.anyMatch(vs.path("spec").path("hosts"), host)) {
                    continue;
                }
                Optional<JsonNode> dest = IstioRegistry.route(vs, seProtocol, host, port);
                if (dest.isPresent()) {
                    steps.add("mesh: VirtualService " + name(vs) + " sends it to " + dest.get().path("host").asText()
                            + ":" + dest.get().path("port").path("number").asInt());
                    return toProxyService(ns, dest.get(), host, port,
                            seProtocol.equals("HTTP") ? Via.HTTP : Via.SNI, sidecar, steps);
                }
            }
            steps.add("mesh: ServiceEntry " + name(se) + " knows it but no route sends it to the proxy");
            return direct(ns, host, port, protocol, steps);
        }
        return unknown(ns, host, port, protocol, registryOnly, steps);
    }

    private Outcome unknown(String ns, String host, int port, String protocol, boolean registryOnly,
                            List<String> steps) {
        if (registryOnly) {
            steps.add("sidecar: " + host + ":" + port + " is not in the registry of " + ns
                    + "'s sidecars (REGISTRY_ONLY): BlackHoleCluster");
            return Outcome.BLOCKED;
        }
        steps.add("sidecar: not in the registry; ALLOW_ANY passes it through");
        return direct(ns, host, port, protocol, steps);
    }

    private Outcome toProxyService(String ns, JsonNode destination, String host, int port, Via via, JsonNode sidecar,
                                   List<String> steps) {
        String[] fqdn = destination.path("host").asText().split("\\.");
        JsonNode svc = find("Service", fqdn[0], fqdn[1]);
        if (!registry.known(svc, fqdn[1], ns, sidecar)) {
            steps.add("sidecar: the route's destination " + destination.path("host").asText()
                    + " is not in its registry: no cluster, the connection fails");
            return Outcome.BLOCKED;
        }
        int servicePort = destination.path("port").path("number").asInt();
        return viaProxy(ns, svc, servicePort, host, port, via, steps);
    }

    private Outcome ambient(String ns, String host, int port, String protocol, List<String> steps) {
        JsonNode env = find("ConfigMap", ManifestGenerator.AMBIENT_ENV, ns);
        boolean httpClient = protocol.equals("TCP") && (port == 80 || port == 443) && !host.equals("dns");
        if (env == null || !httpClient || noProxy(env, host)) {
            steps.add("mesh (ambient): " + (env == null ? "no proxy variables in " + ns
                    : !httpClient ? "not an HTTP client's connection: no proxy variable applies"
                    : host + " is in NO_PROXY") + "; ztunnel passes it on");
            return direct(ns, host, port, protocol, steps);
        }
        String url = env.path("data").path("HTTPS_PROXY").asText();
        steps.add("mesh (ambient): HTTP_PROXY/HTTPS_PROXY send it to " + url);
        String[] hostPort = url.substring("http://".length()).split(":");
        String[] fqdn = hostPort[0].split("\\.");
        return viaProxy(ns, find("Service", fqdn[0], fqdn[1]), Integer.parseInt(hostPort[1]), host, port,
                port == 80 ? Via.HTTP : Via.CONNECT, steps);
    }

    // ---- the network's layer ---------------------------------------------------------------------------------

    private Outcome direct(String ns, String host, int port, String protocol, List<String> steps) {
        NetworkPolicyEvaluator.Peer to = destination(host);
        return hop(client(ns), to, port, protocol, "to " + describe(to), steps) ? Outcome.DIRECT : Outcome.BLOCKED;
    }

    private Outcome viaProxy(String ns, JsonNode svc, int servicePort, String host, int port, Via via,
                             List<String> steps) {
        int target = -1;
        for (JsonNode p : svc.path("spec").path("ports")) {
            if (p.path("port").asInt() == servicePort) {
                target = p.path("targetPort").asInt();
            }
        }
        NetworkPolicyEvaluator.Peer proxyPeer = proxyPeer(svc);
        if (target < 0 || !hop(client(ns), proxyPeer, target, "TCP", "to the proxy port " + target, steps)) {
            return Outcome.BLOCKED;
        }
        ProxyVerdict v = proxy.decide(host, port, via);
        steps.add("proxy: " + v.reason());
        if (!v.allowed()) {
            return Outcome.REFUSED_BY_PROXY;
        }
        NetworkPolicyEvaluator.Peer upstream = destination(host);
        if (proxyPeer.where() == NetworkPolicyEvaluator.Where.POD
                && !hop(proxyPeer, upstream, port, "TCP", "from the proxy to " + describe(upstream), steps)) {
            return Outcome.BLOCKED;
        }
        return Outcome.VIA_PROXY;
    }

    /** One connection, checked at both ends. */
    private boolean hop(NetworkPolicyEvaluator.Peer from, NetworkPolicyEvaluator.Peer to, int port, String protocol,
                        String what, List<String> steps) {
        int wirePort = port;
        if (cluster.dataplane() == EgressConfig.Dataplane.AMBIENT && to.where() == NetworkPolicyEvaluator.Where.POD
                && !"none".equals(to.pod().labels().get("istio.io/dataplane-mode")) && protocol.equals("TCP")) {
            wirePort = 15008; // HBONE to a pod of the mesh
        }
        NetworkPolicyEvaluator.Verdict out = policies.egress(from.pod(), to, wirePort, protocol);
        steps.add("network " + what + " (" + protocol + "/" + wirePort + "), egress: " + out.reason());
        if (!out.allowed()) {
            return false;
        }
        if (to.where() == NetworkPolicyEvaluator.Where.POD) {
            NetworkPolicyEvaluator.Verdict in = policies.ingress(to.pod(), from, wirePort, protocol);
            steps.add("network " + what + ", ingress: " + in.reason());
            return in.allowed();
        }
        return true;
    }

    private NetworkPolicyEvaluator.Peer client(String ns) {
        return new NetworkPolicyEvaluator.Peer(address(CLIENT_POD), new NetworkPolicyEvaluator.Pod(ns, Map.of()),
                NetworkPolicyEvaluator.Where.POD);
    }

    private NetworkPolicyEvaluator.Peer destination(String host) {
        if (host.equals("dns")) {
            return cluster.dns() == ClusterDns.NODE_LOCAL
                    ? new NetworkPolicyEvaluator.Peer(address(NODE_LOCAL_DNS), null, NetworkPolicyEvaluator.Where.NODE)
                    : new NetworkPolicyEvaluator.Peer(address(KUBE_DNS_POD), new NetworkPolicyEvaluator.Pod(
                            "kube-system", Map.of("k8s-app", "kube-dns")), NetworkPolicyEvaluator.Where.POD);
        }
        NetworkPolicyEvaluator.Peer svc = cluster.services().get(host);
        if (svc != null) {
            return svc;
        }
        boolean literal = io.meshegress.policy.HostPattern.isIpLiteral(host);
        return new NetworkPolicyEvaluator.Peer(address(literal ? host : PUBLIC_STAND_IN), null,
                NetworkPolicyEvaluator.Where.OUTSIDE);
    }

    /** The proxy's pods (their labels from the Deployment) in-cluster, else its first address. */
    private NetworkPolicyEvaluator.Peer proxyPeer(JsonNode svc) {
        String ns = namespaceOf(svc);
        if (svc.path("spec").has("selector")) {
            JsonNode d = find("Deployment", ManifestGenerator.NAME, ns);
            Map<String, String> labels = new HashMap<>();
            d.path("spec").path("template").path("metadata").path("labels").fields()
                    .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            return new NetworkPolicyEvaluator.Peer(address(PROXY_POD), new NetworkPolicyEvaluator.Pod(ns, labels),
                    NetworkPolicyEvaluator.Where.POD);
        }
        for (JsonNode slice : objectsOf("EndpointSlice")) {
            return new NetworkPolicyEvaluator.Peer(address(slice.path("endpoints").get(0).path("addresses").get(0)
                    .asText()), null, NetworkPolicyEvaluator.Where.OUTSIDE);
        }
        JsonNode ep = find("Endpoints", ManifestGenerator.NAME, ns);
        return new NetworkPolicyEvaluator.Peer(address(ep.path("subsets").get(0).path("addresses").get(0)
                .path("ip").asText()), null, NetworkPolicyEvaluator.Where.OUTSIDE);
    }

    private static boolean noProxy(JsonNode env, String host) {
        for (String e : env.path("data").path("NO_PROXY").asText().split(",")) {
            if (e.equals(host) || (e.startsWith(".") && host.endsWith(e))) {
                return true;
            }
        }
        return false;
    }

    /** {@code name} of {@code name.namespace.svc} (and .cluster.local), or null. */
    private static String serviceName(String host) {
        String[] labels = host.split("\\.");
        return labels.length >= 3 && labels[2].equals("svc") ? labels[0] : null;
    }

    List<JsonNode> objectsOf(String kind) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode o : objects) {
            if (o.path("kind").asText().equals(kind)) {
                out.add(o);
            }
        }
        return out;
    }

    private JsonNode find(String kind, String name, String ns) {
        for (JsonNode o : objectsOf(kind)) {
            if (o.path("metadata").path("name").asText().equals(name) && namespaceOf(o).equals(ns)) {
                return o;
            }
        }
        return null;
    }

    private static String namespaceOf(JsonNode o) {
        return o.path("metadata").path("namespace").asText();
    }

    private static String name(JsonNode o) {
        return namespaceOf(o) + "/" + o.path("metadata").path("name").asText();
    }

    private static String describe(NetworkPolicyEvaluator.Peer p) {
        return switch (p.where()) {
            case POD -> "a pod of " + p.pod().namespace() + " " + p.pod().labels();
            case NODE -> "the node's " + p.address().getHostAddress();
            case API_SERVER -> "the API server";
            case OUTSIDE -> p.address().getHostAddress();
        };
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByAddress(io.netty.util.NetUtil.createByteArrayFromIpAddressString(literal));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }
}
