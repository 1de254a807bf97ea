package io.meshegress.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Every metric the proxy exports, named by Prometheus conventions (base units, {@code _total} counters). Label
 * values are bounded: listeners and kinds come from the config, statuses and reasons from small fixed sets;
 * host names never become labels.
 */
public final class ProxyMetrics {
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, AtomicInteger> tunnels = new ConcurrentHashMap<>();

    /** The Prometheus text exposition of everything. */
    public String scrape() {
        return registry.scrape();
    }

    /** The counters of one (listener, kind, decision, status), looked up once: this runs per request. */
    private record Outcome(String listener, String kind, String decision, int status, String role) {
    }

    private record OutcomeCounters(Counter count, Counter up, Counter down) {
    }

    private final ConcurrentHashMap<Outcome, OutcomeCounters> outcomes = new ConcurrentHashMap<>();
    /** By role: as bounded as the roles a config names. */
    private final ConcurrentHashMap<String, Counter> wouldRefuse = new ConcurrentHashMap<>();

    /** One finished connection (sni, connect) or request (http), as the access log saw it. */
    public void finished(AccessEntry e) {
        OutcomeCounters c = outcomes.computeIfAbsent(new Outcome(e.listener(), e.kind(), e.decision(), e.status(), e.role()),
                o -> new OutcomeCounters(
                        Counter.builder("meshegress.connections")
                                .description("Connections (sni, connect) and requests (http) handled, by outcome")
                                .tag("listener", o.listener()).tag("kind", o.kind()).tag("decision", o.decision())
                                .tag("status", Integer.toString(o.status())).tag("role", o.role()).register(registry),
                        transferred(o, "up"), transferred(o, "down")));
        c.count().increment();
        c.up().increment(e.bytesUp());
        c.down().increment(e.bytesDown());
        if (e.wouldRefuse() != null) {
            wouldRefuse.computeIfAbsent(e.role(), r -> Counter.builder("meshegress.would.refuse")
                    .description("Connections and requests report mode let through that enforce mode would refuse")
                    .tag("role", r).register(registry)).increment();
        }
    }

    private Counter transferred(Outcome o, String direction) {
        return Counter.builder("meshegress.transferred").baseUnit("bytes")
                .description("Payload bytes relayed, counted when the connection or request ends")
                .tag("listener", o.listener()).tag("kind", o.kind()).tag("direction", direction)
                .register(registry);
    }

    /** What one listener has done since start, from the same counters /metrics exports. */
    public record ListenerTraffic(String listener, long handled, long refused, long bytesUp, long bytesDown,
                                  int tunnelsOpen) {
    }

    /** Per listener (as the access log names it), in name order. */
    public List<ListenerTraffic> byListener() {
        Map<String, long[]> sums = new TreeMap<>();
        // The byte counters are per (listener, kind, direction), shared by that pair's outcomes: count each once.
        Set<Counter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        outcomes.forEach((o, c) -> {
            long[] t = sums.computeIfAbsent(o.listener(), l -> new long[4]);
            long n = (long) c.count().count();
            t[0] += n;
            t[1] += o.decision().equals("refused") ? n : 0;
            if (seen.add(c.up())) {
                t[2] += (long) c.up().count();
            }
            if (seen.add(c.down())) {
                t[3] += (long) c.down().count();
            }
        });
        tunnels.keySet().forEach(l -> sums.computeIfAbsent(l, x -> new long[4]));
        List<ListenerTraffic> out = new ArrayList<>();
        sums.forEach((l, t) -> {
            AtomicInteger open = tunnels.get(l);
            out.add(new ListenerTraffic(l, t[0], t[1], t[2], t[3], open == null ? 0 : open.get()));
        });
        return out;
    }

    public void tunnelOpened(String listener) {
        tunnelGauge(listener).incrementAndGet();
    }

    public void tunnelClosed(String listener) {
        tunnelGauge(listener).decrementAndGet();
    }

    private AtomicInteger tunnelGauge(String listener) {
        return tunnels.computeIfAbsent(listener, l -> {
            AtomicInteger n = new AtomicInteger();
            Gauge.builder("meshegress.tunnels.active", n, AtomicInteger::get)
                    .description("Tunnels (sni, connect, upgraded http) open now").tag("listener", l).register(registry);
            return n;
        });
    }

    /** @param result connected, refused, timeout or failed */
    public void upstreamConnect(Duration took, String result) {
        timers.computeIfAbsent("connect " + result, k -> Timer.builder("meshegress.upstream.connect")
                .description("Upstream TCP connect time").serviceLevelObjectives(LATENCY_BUCKETS)
                .tag("result", result).register(registry)).record(took);
    }

    /**
     * @param source cache (answered by the shared DNS cache), dns (a query went out), static (resolver.hosts)
     *               or literal (an IP address)
     * @param result answered, nxdomain or timeout
     */
    public void dnsResolve(Duration took, String source, String result) {
        timers.computeIfAbsent("dns " + source + " " + result, k -> Timer.builder("meshegress.dns.resolve")
                .description("Name resolution time").serviceLevelObjectives(LATENCY_BUCKETS)
                .tag("source", source).tag("result", result).register(registry)).record(took);
        if (source.equals("cache")) {
            cacheHits.increment();
        }
    }

    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
    private final Counter cacheHits = Counter.builder("meshegress.dns.cache.hits")
            .description("Resolutions answered from the DNS cache").register(registry);

    public void dnsCacheSize(Supplier<Number> names) {
        Gauge.builder("meshegress.dns.cache.names", names).description("Names in the DNS cache (answers and "
                + "negative answers) not yet expired").register(registry);
    }

    /** @param reason clients, connections or connections_per_client */
    public void admissionRefused(String reason) {
        Counter.builder("meshegress.admission.refused").description("Client connections turned away before "
                + "reading a byte").tag("reason", reason).register(registry).increment();
    }

    /**
     * One PROXY protocol header on a listener that requires them.
     *
     * @param result proxy (a client named), local (a health check), untrusted, missing, malformed, slow
     */
    public void proxyHeader(String listener, String result) {
        Counter.builder("meshegress.proxy.protocol.headers").description("PROXY protocol headers by result, on "
                + "listeners that require them").tag("listener", listener).tag("result", result).register(registry)
                .increment();
    }

    /** A CONNECT tunnel's ClientHello carried Encrypted Client Hello; {@code action}: allowed or refused. */
    public void encryptedClientHello(String listener, String action) {
        Counter.builder("meshegress.encrypted.client.hello").description("CONNECT tunnels whose ClientHello carried "
                + "Encrypted Client Hello, by what http.echPolicy did").tag("listener", listener).tag("action", action)
                .register(registry).increment();
    }

    public void openConnections(Supplier<Number> open) {
        Gauge.builder("meshegress.connections.open", open).description("Client connections held by the proxy "
                + "listeners now").register(registry);
    }

    /** @param result success or failure */
    public void configReload(String result) {
        Counter.builder("meshegress.config.reloads").description("Configuration reloads by result")
                .tag("result", result).register(registry).increment();
    }

    public void accessLogDropped() {
        Counter.builder("meshegress.access.log.dropped").description("Access-log lines dropped because the "
                + "writer fell behind").register(registry).increment();
    }

    public void readiness(Supplier<Boolean> ready) {
        Gauge.builder("meshegress.ready", () -> ready.get() ? 1 : 0)
                .description("1 while serving and ready, 0 while starting or draining").register(registry);
    }
}
