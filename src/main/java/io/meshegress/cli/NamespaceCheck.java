package io.meshegress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.EgressConfig;
import io.meshegress.mesh.ManifestGenerator;
import io.meshegress.mesh.NetworkPolicyEvaluator;
import io.meshegress.mesh.ProxyPorts;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import io.netty.util.NetUtil;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code check --namespace NS HOST[:PORT]}: would a pod of NS reach HOST:PORT, across the layers: the mesh's
 * route (a destination sends it to the proxy Service), the generated NetworkPolicies (evaluated by
 * {@link NetworkPolicyEvaluator}), the Sidecar's REGISTRY_ONLY, and the proxy's own rule. The last line is the
 * answer: {@code => reaches ...} or {@code => refused ...}. The host {@code dns} stands for the cluster DNS pods
 * of mesh.enforce.dns; a name that is not routed to the proxy stands for a public address of it.
 */
final class NamespaceCheck {
    /** A public address (TEST-NET-1) standing for a name's addresses when none of allowCidrs holds it. */
    static final String PUBLIC_STAND_IN = "192.0.2.1";

    private final EgressConfig cfg;
    private final RouteTable routes;
    private final NetworkPolicyEvaluator policies;

    NamespaceCheck(EgressConfig cfg, RouteTable routes, List<ObjectNode> manifests) {
        this.cfg = cfg;
        this.routes = routes;
        this.policies = new NetworkPolicyEvaluator(manifests);
    }

    /** The answer for one destination, its reasons first, then the {@code =>} line. */
    void explain(String ns, String host, int port, String protocol, PrintWriter out) throws Exception {
        NetworkPolicyEvaluator.Pod pod = new NetworkPolicyEvaluator.Pod(ns, Map.of());
        out.println("from a pod of namespace " + ns + " to " + host + ":" + port + "/" + protocol + ":");
        EgressConfig.Enforce enforce = cfg.mesh().enforce();
        if (enforce == null || !enforce.namespaces().contains(ns)) {
            out.println("  mesh.enforce does not list " + ns + ": no NetworkPolicy from mesh-egress applies");
        }
        if (host.equals("dns") && enforce != null) {
            NetworkPolicyEvaluator.Pod dnsPod = new NetworkPolicyEvaluator.Pod(enforce.dns().namespace(),
                    enforce.dns().podLabels());
            verdict(policies.egress(pod, new NetworkPolicyEvaluator.Peer(null, dnsPod), port, protocol), "the DNS pods",
                    out);
            return;
        }
        Optional<ProxyPorts.ProxyPort> route = protocol.equals("TCP") ? meshRoute(host, port) : Optional.empty();
        if (route.isPresent()) {
            int target = route.get().targetPort();
            out.println("  mesh: a destination sends it to Service " + ManifestGenerator.NAME + " port " + port
                    + " -> proxy listener port " + target);
            NetworkPolicyEvaluator.Verdict np = policies.egress(pod, proxyPeer(), target, "TCP");
            out.println("  network: " + np.reason());
            if (!np.allowed()) {
                out.println("=> refused by the NetworkPolicies (the proxy is out of reach)");
                return;
            }
            Destination.Kind kind = route.get().protocol() == ProxyPorts.Protocol.HTTP ? Destination.Kind.HTTP
                    : Destination.Kind.SNI;
            RouteTable.Verdict v = routes.decide((InetAddress) null, kind, host, port);
            out.println("  proxy: " + v);
            out.println(v.allowed() ? "=> reaches " + host + ":" + port + " through the proxy"
                    : "=> refused by the proxy");
            return;
        }
        out.println("  mesh: no destination sends " + host + ":" + port + "/" + protocol + " to the proxy");
        if (enforce != null && enforce.registryOnly() && enforce.namespaces().contains(ns) && protocol.equals("TCP")
                && !HostPattern.isIpLiteral(host)) {
            out.println("  sidecar: Sidecar " + ns + "/mesh-egress-registry-only (REGISTRY_ONLY) passes no unknown host");
        }
        InetAddress address = HostPattern.isIpLiteral(host) ? literal(host) : literal(PUBLIC_STAND_IN);
        if (!HostPattern.isIpLiteral(host)) {
            out.println("  (" + PUBLIC_STAND_IN + " stands for a public address of " + host + ")");
        }
        verdict(policies.egress(pod, new NetworkPolicyEvaluator.Peer(address, null), port, protocol), "directly", out);
    }

    private static void verdict(NetworkPolicyEvaluator.Verdict np, String how, PrintWriter out) {
        out.println("  network: " + np.reason());
        out.println(np.allowed() ? "=> reaches it " + how : "=> refused by the NetworkPolicies");
    }

    /** The proxy as a NetworkPolicy peer: its pods in-cluster, else its first address. */
    private NetworkPolicyEvaluator.Peer proxyPeer() {
        List<InetAddress> addresses = cfg.mesh().proxy().addresses();
        if (addresses.isEmpty()) {
            return new NetworkPolicyEvaluator.Peer(null, new NetworkPolicyEvaluator.Pod(cfg.mesh().namespace(),
                    Map.of("app.kubernetes.io/name", ManifestGenerator.NAME)));
        }
        return new NetworkPolicyEvaluator.Peer(addresses.get(0), null);
    }

    private Optional<ProxyPorts.ProxyPort> meshRoute(String host, int port) throws Exception {
        for (EgressConfig.Destination d : cfg.mesh().destinations()) {
            boolean matches = d.hosts().stream().anyMatch(p -> p.matches(host));
            if (matches && (d.http().contains(port) || d.tls().contains(port))) {
                return ProxyPorts.plan(cfg).stream().filter(p -> p.port() == port).findFirst();
            }
        }
        return Optional.empty();
    }

    private static InetAddress literal(String host) throws UnknownHostException {
        return InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host));
    }
}
