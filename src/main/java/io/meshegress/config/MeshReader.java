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
        String image = "mesh-egress:" + io.meshegress.Version.VERSION;
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
        }) : List.of();
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
        boolean prometheusOperator = f.has("monitoring")
                && word(f.get("monitoring"), "prometheus-operator", "none").equals("prometheus-operator");
        return new EgressConfig.Mesh(namespace, new EgressConfig.Proxy(addresses, image, replicas, maxReplicas,
                proxyProtocol), exportTo, destinations, enforce, prometheusOperator);
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
        String dnsNamespace = "kube-system";
        Map<String, String> dnsLabels = new LinkedHashMap<>(Map.of("k8s-app", "kube-dns"));
        List<Integer> dnsPorts = List.of(53);
        if (f.has("dns")) {
            Fields d = fields(f.get("dns"), ConfigSection.ENFORCE_DNS);
            if (d.has("namespace")) {
                dnsNamespace = dnsLabel(d.get("namespace"), "a Kubernetes namespace name");
            }
            if (d.has("podLabels")) {
                dnsLabels = new LinkedHashMap<>();
                for (YamlNode.Entry e : mapping(d.get("podLabels")).entries().values()) {
                    dnsLabels.put(e.key(), string(e.value()));
                }
                if (dnsLabels.isEmpty()) {
                    throw at(d.get("podLabels"), "at least one label (an empty selector would mean every pod)");
                }
            }
            if (d.has("ports")) {
                dnsPorts = list(d.get("ports"), this::port);
            }
        }
        boolean registryOnly = !f.has("istio") || word(f.get("istio"), "registryOnly", "off").equals("registryOnly");
        return new EgressConfig.Enforce(namespaces, allowCidrs, new EgressConfig.Dns(dnsNamespace, dnsLabels, dnsPorts),
                registryOnly);
    }
}
