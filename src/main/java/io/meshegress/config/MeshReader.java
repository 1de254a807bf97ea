package io.meshegress.config;

import io.meshegress.policy.Cidr;
import io.meshegress.policy.HostPattern;
import io.meshegress.text.Quote;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code mesh} section: where the proxy runs, what the mesh sends it, and (mesh.enforce) which namespaces
 * must have no other way out.
 */
final class MeshReader extends YamlValueReader {

    MeshReader(String file) {
        super(file);
    }

    EgressConfig.Mesh mesh(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.MESH);
        String namespace = "default";
        if (f.has("namespace")) {
            namespace = dnsLabel(f.get("namespace"), "a Kubernetes namespace name");
        }
        List<InetAddress> addresses = List.of();
        String image = null; // in-cluster output needs it named: no registry serves a default
        int replicas = 2;
        int maxReplicas = 10;
        String proxyProtocol = EgressConfig.Proxy.OFF;
        if (f.has("proxy")) {
            Fields p = fields(f.get("proxy"), ConfigSection.MESH_PROXY);
            if (p.has("proxyProtocol")) {
                proxyProtocol = string(p.get("proxyProtocol"));
                if (!List.of("off", "v1", "v2").contains(proxyProtocol)) {
                    throw at(p.get("proxyProtocol"), Quote.shortly(proxyProtocol) + " is not off, v1 or v2");
                }
            }
            if (p.has("addresses")) {
                addresses = list(p.get("addresses"), n -> parseScalar(n, YamlValueReader::ipAddress));
            }
            if (p.has("image")) {
                image = string(p.get("image"));
                if (image.isBlank() || image.chars().anyMatch(Character::isWhitespace)) {
                    throw at(p.get("image"), Quote.shortly(image) + " is not a container image reference");
                }
            }
            if (p.has("replicas")) {
                replicas = positiveInt(p.get("replicas"));
            }
            if (p.has("maxReplicas")) {
                maxReplicas = positiveInt(p.get("maxReplicas"));
                if (maxReplicas < replicas) {
                    throw at(p.get("maxReplicas"), "must be at least mesh.proxy.replicas (" + replicas + ")");
                }
            }
        }
        List<String> exportTo = f.has("exportTo") ? list(f.get("exportTo"), n -> {
            String v = string(n);
            return v.equals("*") || v.equals(".") ? v : dnsLabel(n, "a namespace, \".\" or \"*\"");
        }) : List.of("*");
        if (exportTo.isEmpty()) {
            throw at(f.get("exportTo"), "at least one namespace, \".\" or \"*\" (an empty list would export to "
                    + "every namespace, Istio's default)");
        }
        List<EgressConfig.Destination> destinations;
        if (!f.has("destinations")) {
            // A file means what it says: no destinations key, no destinations. Only the embedded default file
            // (no -c) carries the write-up's *.qq.com example, and it writes it out.
            destinations = List.of();
        } else {
            destinations = list(f.get("destinations"), n -> {
                Fields d = fields(n, ConfigSection.DESTINATION);
                if (!d.has("hosts")) {
                    throw at(n, "hosts is required for a destination (e.g. hosts: [\"*.example.com\"])");
                }
                List<HostPattern> hosts = list(d.get("hosts"), this::hostPattern);
                if (hosts.isEmpty()) {
                    throw at(d.get("hosts"), "a destination needs at least one host");
                }
                List<Integer> httpPorts = d.has("http") ? list(d.get("http"), this::port) : List.of();
                List<Integer> tlsPorts = d.has("tls") ? list(d.get("tls"), this::port) : List.of();
                for (Integer p : httpPorts) {
                    if (tlsPorts.contains(p)) {
                        throw at(d.get("tls"), "port " + p + " is listed as both http and tls");
                    }
                }
                return new EgressConfig.Destination(hosts, httpPorts, tlsPorts);
            });
        }
        EgressConfig.Enforce enforce = f.has("enforce") ? enforce(f.get("enforce")) : null;
        boolean prometheusOperator = false;
        List<String> scrapers = List.of();
        if (f.has("monitoring")) {
            YamlNode m = f.get("monitoring");
            if (m instanceof YamlNode.Mapping) {
                Fields mf = fields(m, ConfigSection.MESH_MONITORING);
                prometheusOperator = mf.has("kind")
                        && word(mf.get("kind"), "prometheus-operator", "none").equals("prometheus-operator");
                scrapers = mf.has("namespaces")
                        ? list(mf.get("namespaces"), n -> dnsLabel(n, "a Kubernetes namespace name")) : List.of();
            } else {
                prometheusOperator = word(m, "prometheus-operator", "none").equals("prometheus-operator");
            }
        }
        EgressConfig.Dataplane dataplane = f.has("dataplane")
                && word(f.get("dataplane"), "sidecar", "ambient").equals("ambient")
                ? EgressConfig.Dataplane.AMBIENT : EgressConfig.Dataplane.SIDECAR;
        EgressConfig.IstioVersion istioVersion = f.has("istioVersion") ? istioVersion(f.get("istioVersion"))
                : DEFAULT_ISTIO;
        boolean legacyEndpoints = f.has("legacyEndpoints") && bool(f.get("legacyEndpoints"));
        return new EgressConfig.Mesh(namespace, new EgressConfig.Proxy(addresses, image, replicas, maxReplicas,
                proxyProtocol), exportTo, destinations, enforce, prometheusOperator, scrapers, dataplane, istioVersion,
                legacyEndpoints);
    }

    /** The Istio release the shipped CRD schemas come from. */
    static final EgressConfig.IstioVersion DEFAULT_ISTIO = new EgressConfig.IstioVersion(1, 29);

    private EgressConfig.IstioVersion istioVersion(YamlNode node) throws ConfigException {
        String v = string(node);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,3})\\.(\\d{1,3})(\\.\\d{1,3})?").matcher(v);
        if (!m.matches()) {
            throw at(node, Quote.shortly(v) + " is not an Istio version (e.g. \"1.28\"; write it in quotes)");
        }
        return new EgressConfig.IstioVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    /** mesh.enforce: the namespaces whose egress must go through the proxy, and what they may still reach. */
    private EgressConfig.Enforce enforce(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.ENFORCE);
        if (!f.has("namespaces")) {
            throw at(node, "namespaces is required (the client namespaces whose egress must go through the proxy)");
        }
        List<String> namespaces = list(f.get("namespaces"), n -> dnsLabel(n, "a Kubernetes namespace name"));
        if (namespaces.isEmpty()) {
            throw at(f.get("namespaces"), "at least one namespace");
        }
        List<Cidr> allowCidrs = f.has("allowCidrs") ? list(f.get("allowCidrs"), this::cidr) : List.of();
        EgressConfig.Peer dns = peer(f.has("dns") ? f.get("dns") : null, ConfigSection.ENFORCE_DNS,
                new EgressConfig.Peer("kube-system", Map.of("k8s-app", "kube-dns"), List.of(), List.of(53)));
        EgressConfig.Peer controlPlane = peer(f.has("controlPlane") ? f.get("controlPlane") : null,
                ConfigSection.ENFORCE_CONTROL_PLANE,
                new EgressConfig.Peer("istio-system", Map.of("app", "istiod"), List.of(), List.of(15012)));
        List<EgressConfig.Peer> peers = f.has("peers") ? list(f.get("peers"), n -> peer(n, ConfigSection.ENFORCE_PEER,
                new EgressConfig.Peer(null, Map.of(), List.of(), List.of()))) : List.of();
        boolean registryOnly = !f.has("istio") || word(f.get("istio"), "registryOnly", "off").equals("registryOnly");
        EgressConfig.Cni cni = f.has("cni") && word(f.get("cni"), "generic", "cilium").equals("cilium")
                ? EgressConfig.Cni.CILIUM : EgressConfig.Cni.GENERIC;
        return new EgressConfig.Enforce(namespaces, allowCidrs, dns, registryOnly, cni, controlPlane, peers);
    }

    /**
     * A peer: {@code namespace} and {@code podLabels} select pods, {@code addresses} (IPs or CIDRs) add what no
     * pod selector matches, {@code ports} limit it. A key left out keeps the default's value.
     */
    private EgressConfig.Peer peer(YamlNode node, ConfigSection section, EgressConfig.Peer defaults)
            throws ConfigException {
        if (node == null) {
            return defaults;
        }
        Fields d = fields(node, section);
        String namespace = defaults.namespace();
        if (d.has("namespace")) {
            namespace = dnsLabel(d.get("namespace"), "a Kubernetes namespace name");
        }
        Map<String, String> labels = defaults.podLabels();
        if (d.has("podLabels")) {
            Map<String, String> read = new LinkedHashMap<>();
            for (YamlNode.Entry e : mapping(d.get("podLabels")).entries().values()) {
                read.put(e.key(), string(e.value()));
            }
            if (read.isEmpty()) {
                throw at(d.get("podLabels"), "at least one label (an empty selector would mean every pod)");
            }
            labels = read;
        }
        List<Cidr> addresses = d.has("addresses") ? list(d.get("addresses"), this::cidr) : defaults.addresses();
        List<Integer> ports = d.has("ports") ? list(d.get("ports"), this::port) : defaults.ports();
        if (namespace == null && !labels.isEmpty()) {
            throw at(d.get("podLabels"), "podLabels need a namespace");
        }
        if (namespace == null && addresses.isEmpty()) {
            throw at(node, "a peer needs a namespace (with podLabels) or addresses");
        }
        return new EgressConfig.Peer(namespace, labels, addresses, ports);
    }
}
