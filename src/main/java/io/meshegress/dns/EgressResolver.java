package io.meshegress.dns;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DefaultDnsCache;
import io.netty.resolver.dns.DefaultDnsCnameCache;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverChannelStrategy;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Names to addresses without blocking an event loop: IP literals and the static {@code resolver.hosts}
 * first, then DNS with Netty's resolver (one per event loop, all sharing one TTL-capped cache with negative
 * caching). With no {@code resolver.servers} it uses the system's resolv.conf and /etc/hosts.
 * Names are queried as fully qualified: search domains would cost an egress proxy several queries per name.
 * Every resolution that goes to the network uses its own UDP socket, so its source port is random.
 */
public final class EgressResolver implements AutoCloseable {
    private final EgressConfig.Resolver config;
    private final Transport transport;
    private final CountingDnsCache cache;
    private final ProxyMetrics metrics;
    private final DefaultDnsCnameCache cnameCache;
    private final DnsServerAddressStreamProvider servers;
    private final HostsFileEntriesResolver hostsFile;
    private final ConcurrentHashMap<EventLoop, DnsNameResolver> resolvers = new ConcurrentHashMap<>();

    public EgressResolver(EgressConfig.Resolver config, Transport transport, ProxyMetrics metrics) {
        this.config = config;
        this.transport = transport;
        this.metrics = metrics;
        int maxTtl = (int) Math.max(1, config.maxTtl().toSeconds());
        this.cache = new CountingDnsCache(new DefaultDnsCache(0, maxTtl, (int) config.negativeTtl().toSeconds()),
                maxTtl, config.negativeTtl().toSeconds());
        this.cnameCache = new DefaultDnsCnameCache(0, maxTtl);
        if (config.servers().isEmpty()) {
            this.servers = DnsServerAddressStreamProviders.platformDefault();
            this.hostsFile = HostsFileEntriesResolver.DEFAULT;
        } else {
            this.servers = new SequentialDnsServerAddressStreamProvider(config.servers());
            this.hostsFile = (name, types) -> null;
        }
    }

    /**
     * All addresses of a normalized host, in the order to try them; IPv4 only unless {@code ipv6}. Fails
     * with {@link ResolveException}. The future completes on {@code loop}.
     */
    public Future<List<InetAddress>> resolve(String host, EventLoop loop) {
        Promise<List<InetAddress>> promise = loop.newPromise();
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
        if (literal != null) {
            try {
                // An IPv4-mapped IPv6 literal comes back as the Inet4Address it carries.
                InetAddress address = InetAddress.getByAddress(literal);
                if (address instanceof Inet6Address && !config.ipv6()) {
                    return promise.setFailure(new ResolveException(host + " is an IPv6 address and resolver.ipv6 is false", false));
                }
                metrics.dnsResolve(Duration.ZERO, "literal", "answered");
                return promise.setSuccess(List.of(address));
            } catch (UnknownHostException e) {
                return promise.setFailure(new ResolveException(host + " is not an address", false));
            }
        }
        InetAddress fixed = config.hosts().get(host);
        if (fixed != null) {
            metrics.dnsResolve(Duration.ZERO, "static", "answered");
            return promise.setSuccess(List.of(fixed));
        }
        long start = System.nanoTime();
        Future<List<InetAddress>> lookup = resolvers.computeIfAbsent(loop, this::newResolver).resolveAll(host);
        // Netty answers from its cache before returning; anything still pending sent a query.
        String source = lookup.isDone() ? "cache" : "dns";
        lookup.addListener(f -> {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (f.isSuccess()) {
                metrics.dnsResolve(took, source, "answered");
                @SuppressWarnings("unchecked")
                List<InetAddress> addresses = (List<InetAddress>) f.getNow();
                promise.setSuccess(addresses);
            } else {
                ResolveException e = classify(host, f.cause());
                metrics.dnsResolve(took, source, e.timeout() ? "timeout" : "nxdomain");
                promise.setFailure(e);
            }
        });
        return promise;
    }

    private static ResolveException classify(String host, Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof DnsNameResolverTimeoutException) {
                return new ResolveException("DNS query for " + host + " timed out", true);
            }
        }
        return new ResolveException(host + " could not be resolved", false);
    }

    private DnsNameResolver newResolver(EventLoop loop) {
        return new DnsNameResolverBuilder(loop)
                .datagramChannelType(transport.datagramChannel())
                // A fresh UDP socket (a kernel-chosen random port) per resolution, not one per loop for the
                // process's life: an off-path spoofer must then guess the port as well as the 16-bit query ID
                // (RFC 5452 section 9.2). The cache keeps this off the hot path.
                .datagramChannelStrategy(DnsNameResolverChannelStrategy.ChannelPerResolution)
                .socketChannelType(transport.socketChannel())
                .nameServerProvider(servers)
                .hostsFileEntriesResolver(hostsFile)
                .resolveCache(cache)
                .cnameCache(cnameCache)
                .resolvedAddressTypes(config.ipv6() ? ResolvedAddressTypes.IPV4_PREFERRED : ResolvedAddressTypes.IPV4_ONLY)
                .queryTimeoutMillis(config.queryTimeout().toMillis())
                .searchDomains(List.of())
                .ndots(1)
                .build();
    }

    /** Names in the shared cache now. */
    public int cachedNames() {
        return cache.names();
    }

    @Override
    public void close() {
        resolvers.values().forEach(DnsNameResolver::close);
        resolvers.clear();
        cache.clear();
        cnameCache.clear();
    }

    /** A name that did not resolve; {@code timeout} when the DNS server did not answer in time. */
    public static final class ResolveException extends Exception {
        private final boolean timeout;

        public ResolveException(String message, boolean timeout) {
            super(message, null, false, false);
            this.timeout = timeout;
        }

        public boolean timeout() {
            return timeout;
        }
    }
}
