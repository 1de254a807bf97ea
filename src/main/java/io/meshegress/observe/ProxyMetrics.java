package io.meshegress.observe;

import io.meshegress.Version;
import io.meshegress.config.EgressConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
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
 *
 * <p>Every counter is exported at 0 from the start for each label set known then (and a reload's new listeners
 * and roles from the reload on): {@code increase()} and {@code rate()} see nothing in a series that is born at
 * its first event, so an alert on the first rejected reload would never fire.
 */
public final class ProxyMetrics {
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, AtomicInteger> tunnels = new ConcurrentHashMap<>();
    /** Access-log listener name to metric label, for every listener any config so far has had. */
    private volatile Map<String, String> listenerLabels = Map.of();

    public ProxyMetrics() {
        Gauge.builder("meshegress.build.info", () -> 1).description("The running build: version and git commit")
                .tag("version", Version.VERSION).tag("commit", Version.COMMIT).register(registry);
        List.of("success", "failure").forEach(r -> reloads(r));
        List.of("clients", "identity_not_ready", "connections", "connections_per_client")
                .forEach(r -> admissionRefusals(r));
        List.of("connected", "timeout", "failed").forEach(r -> connectTimer(r));
        for (String source : List.of("cache", "dns")) {
            for (String result : List.of("answered", "nxdomain")) {
                resolveTimer(source, result);
            }
        }
        resolveTimer("dns", "timeout");
        resolveTimer("static", "answered");
        resolveTimer("literal", "answered");
    }

    /** The metrics of this process: also the JVM's (memory, GC, threads) and the process's (CPU, descriptors, uptime). */
    @SuppressWarnings("resource") // the GC listener lives as long as the process
    public static ProxyMetrics ofThisProcess() {
        ProxyMetrics m = new ProxyMetrics();
        new JvmMemoryMetrics().bindTo(m.registry);
        new JvmGcMetrics().bindTo(m.registry);
        new JvmThreadMetrics().bindTo(m.registry);
        new ProcessorMetrics().bindTo(m.registry);
        new FileDescriptorMetrics().bindTo(m.registry);
        new UptimeMetrics().bindTo(m.registry);
        return m;
    }

    /**
     * The label sets a config makes known, exported at 0 until their first event: per proxy listener and kind,
     * each role's allowed (200) and refused (403) outcomes and their bytes; each role's report-mode count; each
     * listener's open tunnels, PROXY header results (where required) and Encrypted Client Hello actions (http).
     * Called at start and on every reload.
     */
    public void expect(EgressConfig config) {
        Map<String, String> labels = new java.util.HashMap<>(listenerLabels);
        labels.putAll(ListenerLabels.of(config));
        listenerLabels = Map.copyOf(labels);
        List<String> roles = new ArrayList<>(List.of(io.meshegress.policy.Role.DEFAULT));
        config.policy().roles().forEach(r -> roles.add(r.name()));
        for (EgressConfig.Listener l : config.listeners()) {
            if (l instanceof EgressConfig.Admin) {
                continue;
            }
            String name = ListenerLabels.accessLogName(l);
            List<String> kinds = l instanceof EgressConfig.HttpListener ? List.of("http", "connect") : List.of("sni");
            for (String kind : kinds) {
                for (String role : roles) {
                    outcome(new Outcome(label(name), kind, "allowed", 200, role));
                    outcome(new Outcome(label(name), kind, "refused", 403, role));
                }
            }
            tunnelGauge(name);
            EgressConfig.ProxyProtocol pp = l instanceof EgressConfig.HttpListener h ? h.proxyProtocol()
                    : ((EgressConfig.SniListener) l).proxyProtocol();
            if (pp.required()) {
                List.of("proxy", "local", "untrusted", "missing", "malformed", "slow").forEach(r -> proxyHeaders(name, r));
            }
            if (l instanceof EgressConfig.HttpListener) {
                List.of("allowed", "refused").forEach(a -> echCounter(name, a));
            }
        }
        roles.forEach(this::wouldRefuseCounter);
    }

    /** The metric label of a listener named as the access log names it. */
    private String label(String accessLogName) {
        String l = listenerLabels.get(accessLogName);
        return l != null ? l : ListenerLabels.fallback(accessLogName);
    }

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
        OutcomeCounters c = outcome(new Outcome(label(e.listener()), e.kind(), e.decision(), e.status(), e.role()));
        c.count().increment();
        c.up().increment(e.bytesUp());
        c.down().increment(e.bytesDown());
        if (e.wouldRefuse() != null) {
            wouldRefuseCounter(e.role()).increment();
        }
    }

    private Counter wouldRefuseCounter(String role) {
        return wouldRefuse.computeIfAbsent(role, r -> Counter.builder("meshegress.would.refuse")
                .description("Connections and requests report mode let through that enforce mode would refuse")
                .tag("role", r).register(registry));
    }

    private OutcomeCounters outcome(Outcome key) {
        return outcomes.computeIfAbsent(key,
                o -> new OutcomeCounters(
                        Counter.builder("meshegress.connections")
                                .description("Connections (sni, connect) and requests (http) handled, by outcome")
                                .tag("listener", o.listener()).tag("kind", o.kind()).tag("decision", o.decision())
                                .tag("status", Integer.toString(o.status())).tag("role", o.role()).register(registry),
                        transferred(o, "up"), transferred(o, "down")));
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

    /** Per listener (by its metric label), in label order. */
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
        Map<String, Integer> open = new TreeMap<>();
        tunnels.forEach((name, n) -> open.merge(label(name), n.get(), Integer::sum));
        open.keySet().forEach(l -> sums.computeIfAbsent(l, x -> new long[4]));
        List<ListenerTraffic> out = new ArrayList<>();
        sums.forEach((l, t) -> out.add(new ListenerTraffic(l, t[0], t[1], t[2], t[3], open.getOrDefault(l, 0))));
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
                    .description("Tunnels (sni, connect, upgraded http) open now").tag("listener", label(l))
                    .register(registry);
            return n;
        });
    }

    /** @param result connected, refused, timeout or failed */
    public void upstreamConnect(Duration took, String result) {
        connectTimer(result).record(took);
    }

    private Timer connectTimer(String result) {
        return timers.computeIfAbsent("connect " + result, k -> Timer.builder("meshegress.upstream.connect")
                .description("Upstream TCP connect time").serviceLevelObjectives(LATENCY_BUCKETS)
                .tag("result", result).register(registry));
    }

    /**
     * @param source cache (answered by the shared DNS cache), dns (a query went out), static (resolver.hosts)
     *               or literal (an IP address)
     * @param result answered, nxdomain or timeout
     */
    public void dnsResolve(Duration took, String source, String result) {
        resolveTimer(source, result).record(took);
        if (source.equals("cache")) {
            cacheHits.increment();
        }
    }

    private Timer resolveTimer(String source, String result) {
        return timers.computeIfAbsent("dns " + source + " " + result, k -> Timer.builder("meshegress.dns.resolve")
                .description("Name resolution time").serviceLevelObjectives(LATENCY_BUCKETS)
                .tag("source", source).tag("result", result).register(registry));
    }

    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
    private final Counter droppedLines = Counter.builder("meshegress.access.log.dropped").description("Access-log "
            + "lines dropped because the writer fell behind").register(registry);
    private final Counter cacheHits = Counter.builder("meshegress.dns.cache.hits")
            .description("Resolutions answered from the DNS cache").register(registry);

    public void dnsCacheSize(Supplier<Number> names) {
        Gauge.builder("meshegress.dns.cache.names", names).description("Names in the DNS cache (answers and "
                + "negative answers) not yet expired").register(registry);
    }

    /** @param reason clients, identity_not_ready, connections or connections_per_client */
    public void admissionRefused(String reason) {
        admissionRefusals(reason).increment();
    }

    private Counter admissionRefusals(String reason) {
        return Counter.builder("meshegress.admission.refused").description("Client connections turned away before "
                + "reading a byte").tag("reason", reason).register(registry);
    }

    /**
     * One PROXY protocol header on a listener that requires them.
     *
     * @param result proxy (a client named), local (a health check), untrusted, missing, malformed, slow
     */
    public void proxyHeader(String listener, String result) {
        proxyHeaders(listener, result).increment();
    }

    private Counter proxyHeaders(String listener, String result) {
        return Counter.builder("meshegress.proxy.protocol.headers").description("PROXY protocol headers by result, on "
                + "listeners that require them").tag("listener", label(listener)).tag("result", result)
                .register(registry);
    }

    /** A CONNECT tunnel's ClientHello carried Encrypted Client Hello; {@code action}: allowed or refused. */
    public void encryptedClientHello(String listener, String action) {
        echCounter(listener, action).increment();
    }

    private Counter echCounter(String listener, String action) {
        return Counter.builder("meshegress.encrypted.client.hello").description("CONNECT tunnels whose ClientHello "
                + "carried Encrypted Client Hello, by what http.echPolicy did").tag("listener", label(listener))
                .tag("action", action).register(registry);
    }

    public void openConnections(Supplier<Number> open) {
        Gauge.builder("meshegress.connections.open", open).description("Client connections held by the proxy "
                + "listeners now").register(registry);
    }

    /** @param result success or failure */
    public void configReload(String result) {
        reloads(result).increment();
    }

    private Counter reloads(String result) {
        return Counter.builder("meshegress.config.reloads").description("Configuration reloads by result")
                .tag("result", result).register(registry);
    }

    public void accessLogDropped() {
        droppedLines.increment();
    }

    /**
     * How long ago the Kubernetes watch behind identity.kubernetes was last known to be open: near 0 while it is,
     * growing while the API server is unreachable (the last known pods keep serving meanwhile).
     */
    public void identityStaleness(java.util.function.DoubleSupplier seconds) {
        Gauge.builder("meshegress.identity.staleness.seconds", seconds::getAsDouble)
                .description("Seconds since the Kubernetes watch of identity.kubernetes was last known to be open")
                .register(registry);
    }

    public void readiness(Supplier<Boolean> ready) {
        Gauge.builder("meshegress.ready", () -> ready.get() ? 1 : 0)
                .description("1 while serving and ready, 0 while starting or draining").register(registry);
    }
}
