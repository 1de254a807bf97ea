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

    private ManifestGenerator(EgressConfig config, String configText, List<ProxyPorts.ProxyPort> ports) {
        this.config = config;
        this.configText = configText;
        this.namespace = config.mesh().namespace();
        this.ports = ports;
    }

    /**
     * All objects, proxy first, then a ServiceEntry and a VirtualService per destination.
     *
     * @param configText the file as written, for the in-cluster ConfigMap (comments and all)
     */
    public static List<ObjectNode> generate(EgressConfig config, String configText) throws ConfigException {
        List<EgressConfig.Destination> destinations = config.mesh().destinations();
        for (int i = 0; i < destinations.size(); i++) {
            List<HostPattern> hosts = destinations.get(i).hosts();
            for (int j = 0; j < hosts.size(); j++) {
                HostPattern h = hosts.get(j);
                String key = "mesh.destinations[" + i + "].hosts[" + j + "]";
                if (h.kind() == HostPattern.Kind.ANY) {
                    throw config.source().error(key, "\"*\" cannot be a ServiceEntry host (Istio refuses a bare wildcard); "
                            + "list the domains the mesh should send to the proxy");
                }
                if (HostPattern.isIpLiteral(h.value())) {
                    throw config.source().error(key, "an IP address cannot be a ServiceEntry host here; "
                            + "route by name");
                }
            }
            if (destinations.get(i).http().isEmpty() && destinations.get(i).tls().isEmpty()) {
                throw config.source().error("mesh.destinations[" + i + "]", "a destination needs at least one "
                        + "http or tls port to route");
            }
        }
        ManifestGenerator g = new ManifestGenerator(config, configText, ProxyPorts.plan(config));
        return g.all();
    }

    private List<ObjectNode> all() throws ConfigException {
        List<ObjectNode> out = new ArrayList<>();
        if (config.mesh().proxy().addresses().isEmpty()) {
            out.add(configMap());
            out.add(deployment());
            out.add(service(true));
            out.add(podDisruptionBudget());
            out.add(horizontalPodAutoscaler());
        } else {
            out.add(service(false));
            out.add(endpoints());
            out.addAll(endpointSlices());
        }
        if (!config.mesh().proxy().proxyProtocol().equals(EgressConfig.Proxy.OFF)) {
            out.add(proxyProtocolRule());
        }
        Map<String, Integer> used = new HashMap<>();
        List<EgressConfig.Destination> destinations = config.mesh().destinations();
        for (int i = 0; i < destinations.size(); i++) {
            EgressConfig.Destination d = destinations.get(i);
            String name = ManifestNames.forDestination(d.hosts());
            Integer before = used.putIfAbsent(name, i);
            if (before != null) {
                throw config.source().error("mesh.destinations[" + i + "].hosts", "this destination's objects would be "
                        + "named \"" + name + "\" like mesh.destinations[" + before + "]'s; merge the two or list "
                        + "their hosts differently");
            }
            out.add(serviceEntry(name, d));
            out.add(virtualService(name, d));
        }
        if (config.mesh().enforce() != null) {
            out.addAll(new EnforcementManifests(config, ports).all());
        }
        if (config.mesh().prometheusOperator()) {
            out.addAll(new MonitoringManifests(config).all());
        }
        return out;
    }

    /** The proxy Service's name inside the cluster, where VirtualServices route to. */
    String proxyHost() {
        return NAME + "." + namespace + ".svc.cluster.local";
    }

    // ---- the proxy ------------------------------------------------------------------------

    private ObjectNode service(boolean selector) {
        ObjectNode s = object("v1", "Service", NAME);
        ObjectNode spec = s.putObject("spec");
        spec.put("type", "ClusterIP");
        if (selector) {
            spec.putObject("selector").put("app.kubernetes.io/name", NAME);
        }
        ArrayNode ps = spec.putArray("ports");
        for (ProxyPorts.ProxyPort p : ports) {
            ps.addObject().put("name", p.name()).put("port", p.port()).put("targetPort", p.targetPort())
                    .put("protocol", "TCP");
        }
        return s;
    }

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

    private ObjectNode configMap() {
        ObjectNode c = object("v1", "ConfigMap", NAME);
        c.putObject("data").put(CONFIG_FILE, configText);
        return c;
    }

    private ObjectNode deployment() {
        EgressConfig.Proxy proxy = config.mesh().proxy();
        ObjectNode d = object("apps/v1", "Deployment", NAME);
        ObjectNode spec = d.putObject("spec");
        spec.put("replicas", proxy.replicas());
        spec.putObject("selector").putObject("matchLabels").put("app.kubernetes.io/name", NAME);
        ObjectNode template = spec.putObject("template");
        ObjectNode meta = template.putObject("metadata");
        meta.putObject("labels").put("app.kubernetes.io/name", NAME).put("sidecar.istio.io/inject", "false");
        // The proxy is the mesh's exit: a sidecar in front of it would capture its own egress.
        meta.putObject("annotations").put("sidecar.istio.io/inject", "false");
        ObjectNode pod = template.putObject("spec");
        pod.put("terminationGracePeriodSeconds", 45);
        pod.put("automountServiceAccountToken", false);
        ObjectNode podSecurity = pod.putObject("securityContext");
        podSecurity.put("runAsNonRoot", true).put("runAsUser", 10001).put("runAsGroup", 10001);
        podSecurity.putObject("seccompProfile").put("type", "RuntimeDefault");
        ObjectNode spread = pod.putArray("topologySpreadConstraints").addObject();
        spread.put("maxSkew", 1).put("topologyKey", "kubernetes.io/hostname").put("whenUnsatisfiable", "ScheduleAnyway");
        spread.putObject("labelSelector").putObject("matchLabels").put("app.kubernetes.io/name", NAME);
        ObjectNode c = pod.putArray("containers").addObject();
        c.put("name", NAME);
        c.put("image", proxy.image());
        ArrayNode args = c.putArray("args");
        args.add("run").add("-c").add(CONFIG_DIR + "/" + CONFIG_FILE).add("--admin-listen").add(ADMIN_LISTEN);
        c.putArray("env").addObject().put("name", "JAVA_TOOL_OPTIONS")
                .put("value", "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData");
        ArrayNode containerPorts = c.putArray("ports");
        if (config.http() != null) {
            containerPorts.addObject().put("name", "http").put("containerPort", config.http().listen().port())
                    .put("protocol", "TCP");
        }
        for (EgressConfig.SniListener s : config.sni()) {
            containerPorts.addObject().put("name", "sni-" + s.listen().port()).put("containerPort", s.listen().port())
                    .put("protocol", "TCP");
        }
        containerPorts.addObject().put("name", "admin").put("containerPort", ADMIN_PORT).put("protocol", "TCP");
        probe(c.putObject("readinessProbe"), "/readyz", 2, 2);
        probe(c.putObject("livenessProbe"), "/healthz", 10, 3);
        ObjectNode resources = c.putObject("resources");
        resources.putObject("requests").put("cpu", "250m").put("memory", "256Mi");
        // A memory limit, no CPU limit: throttling a proxy turns load into latency for every caller.
        resources.putObject("limits").put("memory", "512Mi");
        ObjectNode security = c.putObject("securityContext");
        security.put("allowPrivilegeEscalation", false).put("readOnlyRootFilesystem", true);
        security.putObject("capabilities").putArray("drop").add("ALL");
        ArrayNode mounts = c.putArray("volumeMounts");
        // A directory mount (no subPath) so that a ConfigMap update reaches the running proxy.
        mounts.addObject().put("name", "config").put("mountPath", CONFIG_DIR).put("readOnly", true);
        mounts.addObject().put("name", "tmp").put("mountPath", "/tmp");
        ArrayNode volumes = pod.putArray("volumes");
        volumes.addObject().put("name", "config").putObject("configMap").put("name", NAME);
        volumes.addObject().put("name", "tmp").putObject("emptyDir");
        return d;
    }

    private static void probe(ObjectNode probe, String path, int periodSeconds, int failureThreshold) {
        probe.putObject("httpGet").put("path", path).put("port", "admin");
        probe.put("periodSeconds", periodSeconds).put("failureThreshold", failureThreshold).put("timeoutSeconds", 2);
    }

    private ObjectNode podDisruptionBudget() {
        ObjectNode p = object("policy/v1", "PodDisruptionBudget", NAME);
        ObjectNode spec = p.putObject("spec");
        spec.put("minAvailable", 1);
        spec.putObject("selector").putObject("matchLabels").put("app.kubernetes.io/name", NAME);
        return p;
    }

    private ObjectNode horizontalPodAutoscaler() {
        EgressConfig.Proxy proxy = config.mesh().proxy();
        ObjectNode h = object("autoscaling/v2", "HorizontalPodAutoscaler", NAME);
        ObjectNode spec = h.putObject("spec");
        spec.putObject("scaleTargetRef").put("apiVersion", "apps/v1").put("kind", "Deployment").put("name", NAME);
        spec.put("minReplicas", proxy.replicas()).put("maxReplicas", proxy.maxReplicas());
        ObjectNode resource = spec.putArray("metrics").addObject().put("type", "Resource").putObject("resource");
        resource.put("name", "cpu");
        resource.putObject("target").put("type", "Utilization").put("averageUtilization", 70);
        return h;
    }

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

    /** An Istio networking object: its envelope, and a spec that ends with the file's {@code mesh.exportTo}. */
    private ObjectNode istio(String kind, String name, java.util.function.Consumer<ObjectNode> spec) {
        ObjectNode o = object("networking.istio.io/v1", kind, name);
        ObjectNode s = o.putObject("spec");
        spec.accept(s);
        exportTo(s);
        return o;
    }

    private void exportTo(ObjectNode spec) {
        if (!config.mesh().exportTo().isEmpty()) {
            ArrayNode a = spec.putArray("exportTo");
            config.mesh().exportTo().forEach(a::add);
        }
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
