package io.meshegress.mesh;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.policy.HostPattern;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * What {@code istio} refuses before writing anything, each as a located config error: destinations Istio cannot
 * route, settings the given Istio version does not honour, and (in-cluster) whatever cannot work inside a pod.
 */
final class OutputChecks {
    /** The first Istio whose sidecars write the PROXY header of a DestinationRule whose tls mode is DISABLE. */
    static final EgressConfig.IstioVersion PROXY_PROTOCOL_SINCE = new EgressConfig.IstioVersion(1, 23);

    private OutputChecks() {
    }

    static void check(EgressConfig config) throws ConfigException {
        destinations(config);
        EgressConfig.Mesh mesh = config.mesh();
        if (!mesh.proxy().proxyProtocol().equals(EgressConfig.Proxy.OFF)
                && mesh.istioVersion().compareTo(PROXY_PROTOCOL_SINCE) < 0) {
            throw config.source().error(key(config, "mesh.istioVersion", "mesh.proxy.proxyProtocol"), "Istio "
                    + mesh.istioVersion() + "'s sidecars send no PROXY header when a DestinationRule's tls mode is "
                    + "DISABLE (fixed in Istio " + PROXY_PROTOCOL_SINCE + "); upgrade, or set proxyProtocol: off");
        }
    }

    private static void destinations(EgressConfig config) throws ConfigException {
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
    }

    /**
     * Inside a pod: the Service's targetPort reaches the pod's own address, so a listener must bind a wildcard
     * (the pod's address is not known ahead, and loopback is reached by nothing); no resolver listens on the pod's
     * loopback; the root filesystem is read-only but for {@link InClusterProxy#WRITABLE_DIR}; and the image must be
     * one the cluster's registry serves, so the file must name it.
     */
    static void inCluster(EgressConfig config) throws ConfigException {
        if (config.mesh().proxy().image() == null) {
            throw config.source().error(key(config, "mesh.proxy", "mesh"), "an in-cluster proxy (no "
                    + "mesh.proxy.addresses) needs mesh.proxy.image: the mesh-egress image your registry serves, "
                    + "e.g. image: \"registry.example.com/mesh-egress:" + io.meshegress.Version.VERSION + "\"");
        }
        if (config.http() != null) {
            listener(config, "http.listen", config.http().listen());
        }
        for (int i = 0; i < config.sni().size(); i++) {
            listener(config, "sni[" + i + "].listen", config.sni().get(i).listen());
        }
        List<InetSocketAddress> servers = config.resolver().servers();
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).getAddress().isLoopbackAddress()) {
                throw config.source().error("resolver.servers[" + i + "]", "inside the proxy's pod no resolver "
                        + "listens on loopback; name the cluster DNS Service's address, or leave servers empty "
                        + "(the pod's resolv.conf)");
            }
        }
        String log = config.accessLog().destination();
        if (!log.equals("stdout") && !log.startsWith(InClusterProxy.WRITABLE_DIR + "/")) {
            throw config.source().error("accessLog.destination", "the proxy's container has a read-only root "
                    + "filesystem, so " + log + " cannot be opened; write to stdout (kubectl logs), or under "
                    + InClusterProxy.WRITABLE_DIR + "/ (an emptyDir, lost with the pod)");
        }
    }

    private static void listener(EgressConfig config, String key, ListenAddress listen) throws ConfigException {
        if (!listen.isWildcard()) {
            throw config.source().error(key, listen + " cannot be bound inside the proxy's pod as the Service "
                    + "expects: its targetPort reaches the pod's own address, which is not known ahead (and nothing "
                    + "reaches loopback); listen on \"0.0.0.0:" + listen.port() + "\"");
        }
    }

    /** The first key path the file has a position for, so that the error points at the line that matters. */
    private static String key(EgressConfig config, String... candidates) {
        for (String c : candidates) {
            if (config.source().positions().containsKey(c)) {
                return c;
            }
        }
        return candidates[candidates.length - 1];
    }
}
