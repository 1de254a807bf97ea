package io.meshegress.mesh;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The port mapping that fixes "SNI carries no port": the proxy's Service gets one port per destination port.
 * A plain-HTTP port P goes to the http listener; a TLS port Q goes to the sni listener whose upstream port is
 * Q, so the connection leaves the proxy on the port the application asked for. Pure: config in, ports out.
 */
public final class ProxyPorts {

    public enum Protocol { HTTP, TLS }

    /**
     * One Service port: {@code port} is what the mesh routes to (the destination port), {@code targetPort} the
     * proxy listener that serves it.
     */
    public record ProxyPort(String name, int port, int targetPort, Protocol protocol) {
    }

    private ProxyPorts() {
    }

    /** The Service ports for every destination port, or the first problem as a located config error. */
    public static List<ProxyPort> plan(EgressConfig config) throws ConfigException {
        if (config.mesh().dataplane() == EgressConfig.Dataplane.AMBIENT) {
            return ambient(config);
        }
        boolean headers = !config.mesh().proxy().proxyProtocol().equals(EgressConfig.Proxy.OFF);
        EgressConfig.SniListener headerListener = headers ? headerListener(config) : null;
        Map<Integer, ProxyPort> byPort = new TreeMap<>();
        Map<Integer, String> firstUse = new TreeMap<>();
        List<EgressConfig.Destination> destinations = config.mesh().destinations();
        for (int i = 0; i < destinations.size(); i++) {
            EgressConfig.Destination d = destinations.get(i);
            for (int j = 0; j < d.http().size(); j++) {
                int p = d.http().get(j);
                String key = "mesh.destinations[" + i + "].http[" + j + "]";
                if (config.http() == null) {
                    throw config.source().error(key, "port " + p + " is plain HTTP but the http listener is off "
                            + "(http: null); turn it on or remove the port");
                }
                if (headers && !config.http().proxyProtocol().required()) {
                    throw config.source().error("mesh.proxy.proxyProtocol", "the sidecars then write a PROXY header "
                            + "on every port of the proxy Service (a DestinationRule has no per-port setting), and "
                            + key + " is plain HTTP; set http.proxyProtocol: required (with trustedSources)");
                }
                add(config, byPort, firstUse, key, new ProxyPort("http-" + p, p, config.http().listen().port(),
                        Protocol.HTTP));
            }
            for (int j = 0; j < d.tls().size(); j++) {
                int q = d.tls().get(j);
                String key = "mesh.destinations[" + i + "].tls[" + j + "]";
                // With PROXY headers every TLS port goes to the one listener that takes the port from them.
                EgressConfig.SniListener listener = headers ? headerListener : config.sni().stream()
                        .filter(s -> s.upstreamPort() == q && !s.upstreamPortFromHeader())
                        .findFirst().orElseThrow(() -> config.source().error(key, "TLS port " + q
                                + " has no sni listener whose upstream port is " + q + "; add one, e.g. "
                                + suggestion(config, q)));
                add(config, byPort, firstUse, key, new ProxyPort("tls-" + q, q, listener.listen().port(),
                        Protocol.TLS));
            }
        }
        List<ProxyPort> ports = new ArrayList<>(byPort.values());
        ports.sort(Comparator.comparing(ProxyPort::protocol).thenComparingInt(ProxyPort::port));
        return List.copyOf(ports);
    }

    /**
     * Ambient: ztunnel applies no route, so workloads name the proxy themselves (HTTP_PROXY and HTTPS_PROXY) and
     * reach its http listener, CONNECT for TLS; the Service has that one port.
     */
    private static List<ProxyPort> ambient(EgressConfig config) throws ConfigException {
        if (config.http() == null) {
            throw config.source().error("mesh.dataplane", "ambient workloads reach the proxy as HTTP_PROXY and "
                    + "HTTPS_PROXY, which needs the http listener (http: null turns it off)");
        }
        if (!config.mesh().proxy().proxyProtocol().equals(EgressConfig.Proxy.OFF)) {
            throw config.source().error("mesh.proxy.proxyProtocol", "in ambient mode no sidecar writes a PROXY "
                    + "header (ztunnel has no such setting); set it off");
        }
        int port = config.http().listen().port();
        return List.of(new ProxyPort("http-proxy", port, port, Protocol.HTTP));
    }

    private static EgressConfig.SniListener headerListener(EgressConfig config) throws ConfigException {
        return config.sni().stream().filter(EgressConfig.SniListener::upstreamPortFromHeader).findFirst()
                .orElseThrow(() -> config.source().error("mesh.proxy.proxyProtocol", "every TLS port then goes to one "
                        + "sni listener that takes the port from the PROXY header; add sni: [{listen: \"0.0.0.0:8443\", "
                        + "proxyProtocol: required, trustedSources: [POD_CIDR], upstreamPort: header}]"));
    }

    private static void add(EgressConfig config, Map<Integer, ProxyPort> byPort, Map<Integer, String> firstUse,
                            String key, ProxyPort port) throws ConfigException {
        ProxyPort existing = byPort.get(port.port());
        if (existing != null && existing.protocol() != port.protocol()) {
            throw config.source().error(key, "port " + port.port() + " is " + port.protocol() + " here but "
                    + existing.protocol() + " in " + firstUse.get(port.port()) + "; one port carries one protocol");
        }
        byPort.putIfAbsent(port.port(), port);
        firstUse.putIfAbsent(port.port(), key);
    }

    private static String suggestion(EgressConfig config, int q) {
        boolean taken = config.sni().stream().anyMatch(s -> s.listen().port() == q)
                || (config.http() != null && config.http().listen().port() == q)
                || (config.admin() != null && config.admin().listen().port() == q);
        return taken ? "sni: [{listen: \"0.0.0.0:PORT\", upstreamPort: " + q + "}] with a free PORT"
                : "sni: [{listen: \"0.0.0.0:" + q + "\"}] (its upstream port is its own port)";
    }
}
