package io.meshegress.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Cidr;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * mesh.enforce with {@code cni: cilium}: the same intent as {@link EnforcementManifests}, as CiliumNetworkPolicies
 * (cilium.io/v2), because on Cilium (and GKE Dataplane V2) a CIDR rule matches only addresses outside the cluster
 * ("Only connections destined for outside of the cluster and not targeting the host will be subject to CIDR
 * rules", the CRD's own description of toCIDR): the node, host-network pods such as NodeLocal DNSCache and the API
 * server are entities ({@code host}, {@code kube-apiserver}), pods are endpoints. One selector kind per rule, as
 * the CRD requires. An endpoint selector without a namespace label selects in the policy's own namespace.
 */
final class CiliumPolicies {
    static final String NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";

    private final EgressConfig config;
    private final EgressConfig.Enforce enforce;
    private final List<Integer> listenerPorts;

    CiliumPolicies(EgressConfig config, List<ProxyPorts.ProxyPort> ports) {
        this.config = config;
        this.enforce = config.mesh().enforce();
        this.listenerPorts = EnforcementManifests.listenerPorts(ports);
    }

    List<ObjectNode> all() {
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : enforce.namespaces()) {
            out.add(clientsPolicy(ns));
        }
        out.addAll(EnforcementManifests.sidecars(config));
        if (config.mesh().proxy().addresses().isEmpty()) {
            out.add(proxyPolicy());
        }
        return out;
    }

    private ObjectNode policy(String name, String ns) {
        return ManifestGenerator.object("cilium.io/v2", "CiliumNetworkPolicy", name, ns);
    }

    private ObjectNode clientsPolicy(String ns) {
        ObjectNode p = policy(EnforcementManifests.CLIENTS_POLICY, ns);
        ObjectNode spec = p.putObject("spec");
        spec.put("description", "mesh-egress: pods of " + ns + " leave the cluster only through the proxy");
        spec.putObject("endpointSelector");
        ArrayNode egress = spec.putArray("egress");
        peerRules(egress, enforce.dns(), true, "host");
        if (config.mesh().dataplane() == EgressConfig.Dataplane.SIDECAR) {
            peerRules(egress, enforce.controlPlane(), false, "host", "remote-node");
        }
        if (config.mesh().proxy().addresses().isEmpty()) {
            ObjectNode rule = egress.addObject();
            rule.putArray("toEndpoints").addObject().putObject("matchLabels")
                    .put(NAMESPACE_LABEL, config.mesh().namespace()).put("app.kubernetes.io/name", ManifestGenerator.NAME);
            ports(rule, listenerPorts, false);
        } else {
            ObjectNode rule = egress.addObject();
            ArrayNode cidrs = rule.putArray("toCIDR");
            for (InetAddress a : config.mesh().proxy().addresses()) {
                cidrs.add(a.getHostAddress() + (a.getAddress().length == 4 ? "/32" : "/128"));
            }
            ports(rule, listenerPorts, false);
        }
        // Every pod of every namespace, on any port (HBONE included in ambient mode).
        allNamespaces(egress.addObject().putArray("toEndpoints"));
        // kubernetes.default.svc: the API server is an entity, whatever its addresses.
        egress.addObject().putArray("toEntities").add("kube-apiserver");
        for (EgressConfig.Peer peer : enforce.peers()) {
            peerRules(egress, peer, false, "host", "remote-node");
        }
        if (!enforce.allowCidrs().isEmpty()) {
            ArrayNode cidrs = egress.addObject().putArray("toCIDR");
            enforce.allowCidrs().forEach(c -> cidrs.add(c.toString()));
        }
        return p;
    }

    private ObjectNode proxyPolicy() {
        ObjectNode p = policy(EnforcementManifests.PROXY_POLICY, config.mesh().namespace());
        ObjectNode spec = p.putObject("spec");
        spec.put("description", "mesh-egress: the proxy serves the namespaces that see its routes and is no way in");
        spec.putObject("endpointSelector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        ArrayNode ingress = spec.putArray("ingress");
        ObjectNode clients = ingress.addObject();
        ArrayNode from = clients.putArray("fromEndpoints");
        List<String> seers = EnforcementManifests.routeNamespaces(config);
        if (seers.isEmpty()) {
            allNamespaces(from);
        } else {
            seers.forEach(ns -> from.addObject().putObject("matchLabels").put(NAMESPACE_LABEL, ns));
        }
        ports(clients, listenerPorts, false);
        // Kubelet probes come from the node.
        ObjectNode probes = ingress.addObject();
        probes.putArray("fromEntities").add("host");
        ports(probes, List.of(ManifestGenerator.ADMIN_PORT), false);
        if (!config.mesh().scraperNamespaces().isEmpty()) {
            ObjectNode scrape = ingress.addObject();
            ArrayNode scrapers = scrape.putArray("fromEndpoints");
            config.mesh().scraperNamespaces().forEach(ns -> scrapers.addObject().putObject("matchLabels")
                    .put(NAMESPACE_LABEL, ns));
            ports(scrape, List.of(ManifestGenerator.ADMIN_PORT), false);
        }
        ArrayNode egress = spec.putArray("egress");
        peerRules(egress, enforce.dns(), true, "host");
        // The world (CIDR rules never match the cluster on Cilium), but allowCidrs.
        ArrayNode set = egress.addObject().putArray("toCIDRSet");
        world(set, "0.0.0.0/0", 4);
        world(set, "::/0", 16);
        return p;
    }

    private void world(ArrayNode set, String all, int family) {
        ObjectNode block = set.addObject().put("cidr", all);
        List<Cidr> except = enforce.allowCidrs().stream().filter(c -> c.network().length == family).toList();
        if (!except.isEmpty()) {
            ArrayNode e = block.putArray("except");
            except.forEach(c -> e.add(c.toString()));
        }
    }

    private static void allNamespaces(ArrayNode selectors) {
        ObjectNode e = selectors.addObject().putArray("matchExpressions").addObject();
        e.put("key", NAMESPACE_LABEL).put("operator", "Exists");
    }

    /**
     * A peer's pods as endpoints, its addresses as CIDRs (outside the cluster) and as node entities (inside it,
     * where CIDRs match nothing: NodeLocal DNSCache on the pod's own node is {@code host}, a host-network pod on
     * another node {@code remote-node}), each a rule of its own.
     */
    private static void peerRules(ArrayNode egress, EgressConfig.Peer peer, boolean udpToo, String... nodes) {
        if (peer.hasPods()) {
            ObjectNode rule = egress.addObject();
            ObjectNode labels = rule.putArray("toEndpoints").addObject().putObject("matchLabels");
            labels.put(NAMESPACE_LABEL, peer.namespace());
            new TreeMap<>(peer.podLabels()).forEach(labels::put);
            ports(rule, peer.ports(), udpToo);
        }
        if (!peer.addresses().isEmpty()) {
            ObjectNode cidr = egress.addObject();
            ArrayNode cidrs = cidr.putArray("toCIDR");
            peer.addresses().forEach(c -> cidrs.add(c.toString()));
            ports(cidr, peer.ports(), udpToo);
            ObjectNode host = egress.addObject();
            ArrayNode entities = host.putArray("toEntities");
            for (String n : nodes) {
                entities.add(n);
            }
            ports(host, peer.ports(), udpToo);
        }
    }

    private static void ports(ObjectNode rule, List<Integer> numbers, boolean udpToo) {
        if (numbers.isEmpty()) {
            return;
        }
        ArrayNode ports = rule.putArray("toPorts").addObject().putArray("ports");
        for (int n : numbers) {
            if (udpToo) {
                ports.addObject().put("port", Integer.toString(n)).put("protocol", "UDP");
            }
            ports.addObject().put("port", Integer.toString(n)).put("protocol", "TCP");
        }
    }
}
