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
 * mesh.enforce: the objects that make the proxy the only way out of the enforced namespaces. Per namespace, a
 * NetworkPolicy that allows its pods only DNS, istiod (the sidecars' own control plane), the proxy on exactly its
 * listener ports, and {@code allowCidrs}: no UDP/443 (QUIC falls back to TCP through the proxy) and no direct
 * TCP to the internet; with {@code istio: registryOnly} a Sidecar with REGISTRY_ONLY. In-cluster, a NetworkPolicy
 * for the proxy's own pods: ingress from the enforced namespaces on its listener ports (and the admin port for
 * probes and scrapes), egress to DNS and anywhere but {@code allowCidrs} (the proxy must not become a way in).
 */
final class EnforcementManifests {
    static final String NAMESPACE_LABEL = "kubernetes.io/metadata.name";
    static final String CLIENTS_POLICY = "mesh-egress-enforce";
    static final String PROXY_POLICY = "mesh-egress-proxy";
    static final String SIDECAR = "mesh-egress-registry-only";
    /** istiod serves xDS and certificates to every sidecar on this port. */
    static final int ISTIOD_PORT = 15012;

    private final EgressConfig config;
    private final EgressConfig.Enforce enforce;
    private final List<Integer> listenerPorts;

    EnforcementManifests(EgressConfig config, List<ProxyPorts.ProxyPort> ports) {
        this.config = config;
        this.enforce = config.mesh().enforce();
        TreeSet<Integer> targets = new TreeSet<>();
        ports.forEach(p -> targets.add(p.targetPort()));
        this.listenerPorts = List.copyOf(targets);
    }

    List<ObjectNode> all() {
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : enforce.namespaces()) {
            out.add(clientsPolicy(ns));
            if (enforce.registryOnly()) {
                out.add(sidecar(ns));
            }
        }
        if (config.mesh().proxy().addresses().isEmpty()) {
            out.add(proxyPolicy());
        }
        return out;
    }

    private ObjectNode clientsPolicy(String ns) {
        ObjectNode np = ManifestGenerator.object("networking.k8s.io/v1", "NetworkPolicy", CLIENTS_POLICY, ns);
        ObjectNode spec = np.putObject("spec");
        spec.putObject("podSelector");
        spec.putArray("policyTypes").add("Egress");
        ArrayNode egress = spec.putArray("egress");
        dnsRule(egress.addObject());
        ObjectNode istiod = egress.addObject();
        ObjectNode peer = istiod.putArray("to").addObject();
        peer.putObject("namespaceSelector").putObject("matchLabels").put(NAMESPACE_LABEL, "istio-system");
        peer.putObject("podSelector").putObject("matchLabels").put("app", "istiod");
        istiod.putArray("ports").addObject().put("protocol", "TCP").put("port", ISTIOD_PORT);
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
        ArrayNode ports = proxy.putArray("ports");
        listenerPorts.forEach(p -> ports.addObject().put("protocol", "TCP").put("port", p));
        if (!enforce.allowCidrs().isEmpty()) {
            ArrayNode direct = egress.addObject().putArray("to");
            enforce.allowCidrs().forEach(c -> direct.addObject().putObject("ipBlock").put("cidr", c.toString()));
        }
        return np;
    }

    private ObjectNode sidecar(String ns) {
        ObjectNode sc = ManifestGenerator.object("networking.istio.io/v1", "Sidecar", SIDECAR, ns);
        ObjectNode spec = sc.putObject("spec");
        ArrayNode hosts = spec.putArray("egress").addObject().putArray("hosts");
        TreeSet<String> namespaces = new TreeSet<>(List.of(".", "istio-system", config.mesh().namespace()));
        namespaces.remove(ns); // "." is this namespace already
        namespaces.forEach(n -> hosts.add(n + "/*"));
        spec.putObject("outboundTrafficPolicy").put("mode", "REGISTRY_ONLY");
        return sc;
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
        ObjectNode expression = from.putObject("namespaceSelector").putArray("matchExpressions").addObject();
        expression.put("key", NAMESPACE_LABEL).put("operator", "In");
        enforce.namespaces().forEach(expression.putArray("values")::add);
        ArrayNode ports = clients.putArray("ports");
        listenerPorts.forEach(p -> ports.addObject().put("protocol", "TCP").put("port", p));
        // Kubelet probes and metric scrapes reach the admin port from outside any namespace.
        ingress.addObject().putArray("ports").addObject().put("protocol", "TCP").put("port", ManifestGenerator.ADMIN_PORT);
        ArrayNode egress = spec.putArray("egress");
        dnsRule(egress.addObject());
        ArrayNode anywhere = egress.addObject().putArray("to");
        world(anywhere, "0.0.0.0/0", 4);
        world(anywhere, "::/0", 16);
        return np;
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

    private void dnsRule(ObjectNode rule) {
        EgressConfig.Dns dns = enforce.dns();
        ObjectNode peer = rule.putArray("to").addObject();
        peer.putObject("namespaceSelector").putObject("matchLabels").put(NAMESPACE_LABEL, dns.namespace());
        ObjectNode labels = peer.putObject("podSelector").putObject("matchLabels");
        new TreeMap<>(dns.podLabels()).forEach(labels::put);
        ArrayNode ports = rule.putArray("ports");
        for (int p : dns.ports()) {
            ports.addObject().put("protocol", "UDP").put("port", p);
            ports.addObject().put("protocol", "TCP").put("port", p);
        }
    }
}
