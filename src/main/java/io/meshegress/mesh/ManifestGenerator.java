package io.meshegress.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.policy.HostPattern;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kubernetes and Istio objects that send a mesh's traffic for the configured destinations to this proxy,
 * from the same config the proxy runs on. Objects are Jackson trees written by a YAML library; their shape is
 * checked against the official schemas by {@link ManifestValidator}, which is why no object model library is
 * needed here.
 */
public final class ManifestGenerator {
    public static final String NAME = "mesh-egress";
    static final String CONFIG_FILE = "egress.yaml";
    static final String CONFIG_DIR = "/etc/mesh-egress";
    static final int ADMIN_PORT = 9901;
    static final String ADMIN_LISTEN = "0.0.0.0:" + ADMIN_PORT;

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final EgressConfig config;
    private final String configText;
    private final String namespace;
    private final List<ProxyPorts.ProxyPort> ports;
    private final String image;

    private ManifestGenerator(EgressConfig config, String configText, List<ProxyPorts.ProxyPort> ports,
                              String image) {
        this.config = config;
        this.image = image;
        this.configText = configText;
        this.namespace = config.mesh().namespace();
        this.ports = ports;
    }

    /** What the objects are for, which decides what must be right in the file before they are written. */
    public enum Use {
        /** For a cluster ({@code istio}): whatever cannot work there is refused with file:line. */
        APPLY,
        /**
         * To validate and explain ({@code check}): an in-cluster proxy's pod requirements are not enforced (the
         * same file may serve a proxy outside the cluster), a missing image is a placeholder.
         */
        DESCRIBE
    }

    /**
     * All objects for a cluster, proxy first, then a ServiceEntry and a VirtualService per destination.
     *
     * @param configText the file as written, for the in-cluster ConfigMap (comments and all)
     */
    public static List<ObjectNode> generate(EgressConfig config, String configText) throws ConfigException {
        return generate(config, configText, Use.APPLY);
    }

    public static List<ObjectNode> generate(EgressConfig config, String configText, Use use) throws ConfigException {
        OutputChecks.check(config);
        List<ProxyPorts.ProxyPort> ports = ProxyPorts.plan(config);
        String image = config.mesh().proxy().image();
        if (config.mesh().proxy().addresses().isEmpty()) {
            if (use == Use.APPLY) {
                OutputChecks.inCluster(config);
            } else if (image == null) {
                image = "mesh-egress:" + io.meshegress.Version.VERSION;
            }
        }
        return new ManifestGenerator(config, configText, ports, image).all();
    }

    /** What {@code istio} would refuse in this file for an in-cluster proxy, if anything. */
    public static java.util.Optional<ConfigException> inClusterProblem(EgressConfig config) {
        if (!config.mesh().proxy().addresses().isEmpty()) {
            return java.util.Optional.empty();
        }
        try {
            OutputChecks.inCluster(config);
            return java.util.Optional.empty();
        } catch (ConfigException e) {
            return java.util.Optional.of(e);
        }
    }

    private List<ObjectNode> all() throws ConfigException {
        List<ObjectNode> out = new ArrayList<>();
        EgressConfig.Mesh mesh = config.mesh();
        boolean ambient = mesh.dataplane() == EgressConfig.Dataplane.AMBIENT;
        if (mesh.proxy().addresses().isEmpty()) {
            List<ObjectNode> workload = new InClusterProxy(config, configText, image).all();
            if (config.identity().kubernetes() != null) {
                out.addAll(IdentityManifests.all(mesh.namespace(), config.identity().bearer() != null));
            }
            out.add(workload.get(0));
            out.add(workload.get(1));
            out.add(service(true));
            out.addAll(workload.subList(2, workload.size()));
        } else {
            out.add(service(false));
            if (mesh.legacyEndpoints()) {
                out.add(endpoints());
            }
            out.addAll(endpointSlices());
        }
        if (!mesh.proxy().proxyProtocol().equals(EgressConfig.Proxy.OFF)) {
            out.add(proxyProtocolRule());
        }
        if (ambient) {
            out.addAll(ambientEnvironment());
        } else {
            Map<String, Integer> used = new HashMap<>();
            List<EgressConfig.Destination> destinations = mesh.destinations();
            for (int i = 0; i < destinations.size(); i++) {
                EgressConfig.Destination d = destinations.get(i);
                String name = ManifestNames.forDestination(d.hosts());
                Integer before = used.putIfAbsent(name, i);
                if (before != null) {
                    throw config.source().error("mesh.destinations[" + i + "].hosts", "this destination's objects "
                            + "would be named \"" + name + "\" like mesh.destinations[" + before + "]'s; merge the "
                            + "two or list their hosts differently");
                }
                out.add(serviceEntry(name, d));
                out.add(virtualService(name, d));
            }
        }
        if (mesh.enforce() != null) {
            out.addAll(mesh.enforce().cni() == EgressConfig.Cni.CILIUM ? new CiliumPolicies(config, ports).all()
                    : new EnforcementManifests(config, ports).all());
        }
        if (mesh.prometheusOperator()) {
            out.addAll(new MonitoringManifests(config).all());
        }
        return out;
    }

    /** The proxy Service's name inside the cluster, where VirtualServices route to. */
    String proxyHost() {
        return NAME + "." + namespace + ".svc.cluster.local";
    }

    // ---- the proxy ------------------------------------------------------------------------

    /**
     * The proxy Service. Its {@code networking.istio.io/exportTo} annotation says which namespaces' sidecars see
     * it, like the exportTo of the routes, so that a mesh whose default is "." still reaches it. With addresses of
     * both families it is dual-stack (PreferDualStack: single-stack clusters keep their own family).
     */
    private ObjectNode service(boolean selector) {
        ObjectNode s = object("v1", "Service", NAME);
        ((ObjectNode) s.get("metadata")).putObject("annotations").put("networking.istio.io/exportTo",
                String.join(",", config.mesh().exportTo()));
        ObjectNode spec = s.putObject("spec");
        spec.put("type", "ClusterIP");
        if (selector) {
            spec.putObject("selector").put("app.kubernetes.io/name", NAME);
        }
        List<InetAddress> addresses = config.mesh().proxy().addresses();
        boolean v4 = addresses.stream().anyMatch(a -> !(a instanceof Inet6Address));
        boolean v6 = addresses.stream().anyMatch(a -> a instanceof Inet6Address);
        if (v4 && v6) {
            spec.put("ipFamilyPolicy", "PreferDualStack");
            spec.putArray("ipFamilies").add("IPv4").add("IPv6");
        } else if (v6) {
            spec.put("ipFamilyPolicy", "SingleStack");
            spec.putArray("ipFamilies").add("IPv6");
        }
        ArrayNode ps = spec.putArray("ports");
        for (ProxyPorts.ProxyPort p : ports) {
            ps.addObject().put("name", p.name()).put("port", p.port()).put("targetPort", p.targetPort())
                    .put("protocol", "TCP");
        }
        return s;
    }

    /** The deprecated v1 Endpoints, only with mesh.legacyEndpoints (Istio and kube-proxy read EndpointSlices). */
    private ObjectNode endpoints() {
        ObjectNode e = object("v1", "Endpoints", NAME);
        // The EndpointSlices below are written out; the mirroring controller must not add copies.
        ((ObjectNode) e.get("metadata")).withObjectProperty("labels").put("endpointslice.kubernetes.io/skip-mirror", "true");
        ObjectNode subset = e.putArray("subsets").addObject();
        ArrayNode addresses = subset.putArray("addresses");
        for (InetAddress a : config.mesh().proxy().addresses()) {
            addresses.addObject().put("ip", a.getHostAddress());
        }
        ArrayNode ps = subset.putArray("ports");
        for (ProxyPorts.ProxyPort p : ports) {
            ps.addObject().put("name", p.name()).put("port", p.targetPort()).put("protocol", "TCP");
        }
        return e;
    }

    private List<ObjectNode> endpointSlices() {
        return endpointSlices(NAME, namespace, config.mesh().proxy().addresses(), ps -> {
            for (ProxyPorts.ProxyPort p : ports) {
                ps.addObject().put("name", p.name()).put("port", p.targetPort()).put("protocol", "TCP");
            }
        });
    }

    /**
     * The EndpointSlices (one per address family) of a selector-less Service whose endpoints are the proxy's
     * addresses outside the cluster; {@code ports} fills each slice's port list.
     */
    static List<ObjectNode> endpointSlices(String service, String namespace, List<InetAddress> addresses,
                                           java.util.function.Consumer<ArrayNode> ports) {
        List<ObjectNode> out = new ArrayList<>();
        for (boolean v6 : new boolean[] {false, true}) {
            List<InetAddress> family = addresses.stream().filter(a -> (a instanceof Inet6Address) == v6).toList();
            if (family.isEmpty()) {
                continue;
            }
            ObjectNode s = object("discovery.k8s.io/v1", "EndpointSlice", service + (v6 ? "-ipv6" : "-ipv4"), namespace);
            ObjectNode labels = ((ObjectNode) s.get("metadata")).withObjectProperty("labels");
            labels.put("kubernetes.io/service-name", service);
            labels.put("endpointslice.kubernetes.io/managed-by", "mesh-egress");
            s.put("addressType", v6 ? "IPv6" : "IPv4");
            ArrayNode endpoints = s.putArray("endpoints");
            for (InetAddress a : family) {
                ObjectNode ep = endpoints.addObject();
                ep.putArray("addresses").add(a.getHostAddress());
                ep.putObject("conditions").put("ready", true);
            }
            ports.accept(s.putArray("ports"));
            out.add(s);
        }
        return out;
    }

    /**
     * Ambient: ztunnel applies no VirtualService or Sidecar, so workloads name the proxy themselves. A ConfigMap
     * of the proxy variables for {@code envFrom}, in every enforced namespace (else in the proxy's), in both
     * spellings: curl reads only the lower-case http_proxy, other clients the upper case. NO_PROXY keeps cluster
     * names direct.
     */
    private List<ObjectNode> ambientEnvironment() {
        String url = "http://" + proxyHost() + ":" + ports.get(0).port();
        String noProxy = ".svc,.cluster.local,localhost,127.0.0.1,::1,kubernetes.default";
        List<String> namespaces = config.mesh().enforce() == null ? List.of(namespace)
                : config.mesh().enforce().namespaces();
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : namespaces) {
            ObjectNode c = object("v1", "ConfigMap", AMBIENT_ENV, ns);
            ObjectNode data = c.putObject("data");
            for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")) {
                data.put(name, url);
            }
            data.put("NO_PROXY", noProxy).put("no_proxy", noProxy);
            out.add(c);
        }
        return out;
    }

    /** The ambient workloads' proxy variables, for envFrom. */
    public static final String AMBIENT_ENV = "mesh-egress-proxy-env";

    /**
     * The sidecars write a PROXY header (the pod's address and the original destination port) before anything
     * else toward the proxy Service. The header goes in clear before the TLS bytes, so the sidecar must not wrap
     * the connection in its own mTLS: the proxy is not in the mesh (its pods are not injected) and reads the
     * header itself.
     */
    private ObjectNode proxyProtocolRule() {
        return istio("DestinationRule", NAME + "-proxy-protocol", spec -> {
            spec.put("host", proxyHost());
            ObjectNode policy = spec.putObject("trafficPolicy");
            policy.putObject("tls").put("mode", "DISABLE");
            policy.putObject("proxyProtocol").put("version",
                    config.mesh().proxy().proxyProtocol().toUpperCase(java.util.Locale.ROOT));
        });
    }

    // ---- per destination --------------------------------------------------------------------

    private ObjectNode serviceEntry(String name, EgressConfig.Destination d) {
        return istio("ServiceEntry", name, spec -> {
            hosts(spec.putArray("hosts"), d.hosts());
            spec.put("location", "MESH_EXTERNAL");
            // NONE: the sidecar passes the connection on by the address the application asked for, which is
            // what wildcards need; the VirtualService then sends it to the proxy.
            spec.put("resolution", "NONE");
            ArrayNode ps = spec.putArray("ports");
            for (int p : d.http()) {
                ps.addObject().put("number", p).put("name", "http-" + p).put("protocol", "HTTP");
            }
            for (int q : d.tls()) {
                ps.addObject().put("number", q).put("name", "tls-" + q).put("protocol", "TLS");
            }
        });
    }

    private ObjectNode virtualService(String name, EgressConfig.Destination d) {
        return istio("VirtualService", name, spec -> {
            hosts(spec.putArray("hosts"), d.hosts());
            if (!d.http().isEmpty()) {
                ArrayNode http = spec.putArray("http");
                for (int p : d.http()) {
                    ObjectNode route = http.addObject();
                    route.put("name", "http-" + p);
                    route.putArray("match").addObject().put("port", p);
                    route.putArray("route").addObject().putObject("destination").put("host", proxyHost())
                            .putObject("port").put("number", p);
                }
            }
            if (!d.tls().isEmpty()) {
                ArrayNode tls = spec.putArray("tls");
                for (int q : d.tls()) {
                    ObjectNode route = tls.addObject();
                    ObjectNode match = route.putArray("match").addObject();
                    match.put("port", q);
                    hosts(match.putArray("sniHosts"), d.hosts());
                    route.putArray("route").addObject().putObject("destination").put("host", proxyHost())
                            .putObject("port").put("number", q);
                }
            }
        });
    }

    /** An Istio networking object: its envelope, and a spec that ends with {@code mesh.exportTo}. */
    private ObjectNode istio(String kind, String name, java.util.function.Consumer<ObjectNode> spec) {
        ObjectNode o = object("networking.istio.io/v1", kind, name);
        ObjectNode s = o.putObject("spec");
        spec.accept(s);
        exportTo(s);
        return o;
    }

    /** Written out always: a mesh whose default visibility is "." would otherwise hide the routes. */
    private void exportTo(ObjectNode spec) {
        ArrayNode a = spec.putArray("exportTo");
        config.mesh().exportTo().forEach(a::add);
    }

    private static void hosts(ArrayNode array, List<HostPattern> hosts) {
        for (HostPattern h : hosts) {
            array.add(h.toString());
        }
    }

    private ObjectNode object(String apiVersion, String kind, String name) {
        return object(apiVersion, kind, name, namespace);
    }

    /** An object's envelope: kind, name, namespace, and the labels every generated object carries. */
    static ObjectNode object(String apiVersion, String kind, String name, String namespace) {
        ObjectNode o = F.objectNode();
        o.put("apiVersion", apiVersion);
        o.put("kind", kind);
        ObjectNode meta = o.putObject("metadata");
        meta.put("name", name);
        meta.put("namespace", namespace);
        meta.putObject("labels").put("app.kubernetes.io/name", NAME).put("app.kubernetes.io/managed-by", NAME);
        return o;
    }

    /** The admin address the in-cluster Deployment passes to {@code run --admin-listen}. */
    public static ListenAddress inClusterAdmin() {
        return ListenAddress.parse(ADMIN_LISTEN);
    }
}
