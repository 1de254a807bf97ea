package io.meshegress.dns;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCacheEntry;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Netty's DNS cache with a count of the names it holds, for the {@code meshegress_dns_cache_names} gauge:
 * Netty's cache expires entries silently, so this keeps each name's latest expiry time beside it.
 */
final class CountingDnsCache implements DnsCache {
    private final DnsCache delegate;
    private final long maxTtlNanos;
    private final long negativeTtlNanos;
    private final ConcurrentHashMap<String, Long> expiries = new ConcurrentHashMap<>();

    CountingDnsCache(DnsCache delegate, long maxTtlSeconds, long negativeTtlSeconds) {
        this.delegate = delegate;
        this.maxTtlNanos = maxTtlSeconds * 1_000_000_000L;
        this.negativeTtlNanos = negativeTtlSeconds * 1_000_000_000L;
    }

    /** Names with an answer or a negative answer that has not expired yet. */
    int names() {
        long now = System.nanoTime();
        expiries.values().removeIf(expiry -> expiry - now <= 0);
        return expiries.size();
    }

    @Override
    public void clear() {
        expiries.clear();
        delegate.clear();
    }

    @Override
    public boolean clear(String hostname) {
        expiries.remove(hostname);
        return delegate.clear(hostname);
    }

    @Override
    public List<? extends DnsCacheEntry> get(String hostname, DnsRecord[] additionals) {
        return delegate.get(hostname, additionals);
    }

    @Override
    public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, InetAddress address, long originalTtl,
                               EventLoop loop) {
        long ttl = Math.min(originalTtl * 1_000_000_000L, maxTtlNanos);
        if (ttl > 0) {
            expiries.merge(hostname, System.nanoTime() + ttl, Math::max);
        }
        return delegate.cache(hostname, additionals, address, originalTtl, loop);
    }

    @Override
    public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, Throwable cause, EventLoop loop) {
        if (negativeTtlNanos > 0) {
            expiries.merge(hostname, System.nanoTime() + negativeTtlNanos, Math::max);
        }
        return delegate.cache(hostname, additionals, cause, loop);
    }
}
