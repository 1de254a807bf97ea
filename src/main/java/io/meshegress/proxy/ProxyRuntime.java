package io.meshegress.proxy;

import io.meshegress.transport.Transport;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ProxyMetrics;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

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
    private final Admission admission;
    private final io.meshegress.identity.Credentials credentials;
    private final AccessLog accessLog;
    private final ProxyMetrics metrics;
    private final Map<ListenAddress, EgressConfig.SniListener> sni = new LinkedHashMap<>();
    private final ConcurrentHashMap<Class<?>, Object> perListenerKind = new ConcurrentHashMap<>();

    public ProxyRuntime(EgressConfig config, EgressResolver resolver, Transport transport, Admission admission,
                        AccessLog accessLog, ProxyMetrics metrics) {
        this(config, resolver, transport, admission, accessLog, metrics, io.meshegress.identity.Identities.NONE);
    }

    /** @param identities names clients by pod where identity.kubernetes is set (it outlives reloads) */
    public ProxyRuntime(EgressConfig config, EgressResolver resolver, Transport transport, Admission admission,
                        AccessLog accessLog, ProxyMetrics metrics, io.meshegress.identity.Identities identities) {
        this.config = config;
        this.resolver = resolver;
        this.admission = admission;
        this.accessLog = accessLog;
        this.metrics = metrics;
        this.routes = new RouteTable(config, identities);
        this.credentials = io.meshegress.identity.Credentials.of(config.identity(), identities);
        this.connector = new UpstreamConnector(routes, resolver, transport, config.timeouts(), metrics);
        config.sni().forEach(s -> sni.put(s.listen(), s));
    }

    public EgressConfig config() {
        return config;
    }

    /** The one decision function of this configuration. */
    public RouteTable routes() {
        return routes;
    }

    /** The HTTP listener's credential checks under this configuration (their remembered verdicts with them). */
    public io.meshegress.identity.Credentials credentials() {
        return credentials;
    }

    public EgressResolver resolver() {
        return resolver;
    }

    public UpstreamConnector connector() {
        return connector;
    }

    public Admission admission() {
        return admission;
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    /**
     * State a listener kind shares across its connections under this configuration (the HTTP listener's
     * upstream pools, say), made on first use. The spine knows no listener kind; the kinds know the spine.
     */
    public <T> T perListenerKind(Class<T> type, Function<ProxyRuntime, T> make) {
        return type.cast(perListenerKind.computeIfAbsent(type, k -> make.apply(this)));
    }

    /** The SNI listener configured at this address, or null when this config has none there. */
    public EgressConfig.SniListener sni(ListenAddress address) {
        return sni.get(address);
    }
}
