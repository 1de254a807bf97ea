package io.meshegress.proxy;

import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.proxy.http.HttpListenerContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one configuration means for connections: policy, resolver, the upstream connector, per-listener
 * settings. Immutable; a reload builds a new one and swaps it whole, and a connection keeps the one it was
 * accepted under until it ends.
 */
public final class ProxyRuntime {
    private final EgressConfig config;
    private final RouteTable routes;
    private final EgressResolver resolver;
    private final UpstreamConnector connector;
    private final HttpListenerContext http;
    private final Map<ListenAddress, EgressConfig.SniListener> sni = new LinkedHashMap<>();

    ProxyRuntime(EgressConfig config, EgressResolver resolver, Transport transport, Admission admission,
                 AccessLog accessLog, ProxyMetrics metrics) {
        this.config = config;
        this.resolver = resolver;
        this.routes = new RouteTable(config);
        this.connector = new UpstreamConnector(routes, resolver, transport, config.timeouts(), metrics);
        this.http = config.http() == null ? null
                : new HttpListenerContext(config.http(), this, admission, accessLog);
        config.sni().forEach(s -> sni.put(s.listen(), s));
    }

    public EgressConfig config() {
        return config;
    }

    /** The one decision function of this configuration. */
    public RouteTable routes() {
        return routes;
    }

    public EgressResolver resolver() {
        return resolver;
    }

    public UpstreamConnector connector() {
        return connector;
    }

    /** The HTTP listener's shared state, or null when this config has none. */
    public HttpListenerContext http() {
        return http;
    }

    /** The SNI listener configured at this address, or null when this config has none there. */
    public EgressConfig.SniListener sni(ListenAddress address) {
        return sni.get(address);
    }
}
