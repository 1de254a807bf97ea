package io.meshegress.proxy.http;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Kept-alive upstream HTTP connections of one event loop, by destination ({@code host:port}). Confined to its
 * loop, so no locks. Bounded per destination; an idle connection is closed after {@code idleTimeout}, and one
 * that the origin closes (or that sends anything while idle) leaves the pool at once.
 */
final class UpstreamPool {
    /**
     * Enough for a sidecar's worth of concurrent requests to one destination to find a warm connection (an
     * idle connection costs a file descriptor and a few KiB); more are closed on release.
     */
    static final int MAX_IDLE_PER_DESTINATION = 256;

    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Duration idleTimeout;

    UpstreamPool(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
    }

    /** An idle, open connection to {@code key}, or null. */
    Channel acquire(String key) {
        ArrayDeque<Channel> q = idle.get(key);
        while (q != null && !q.isEmpty()) {
            Channel ch = q.pollLast();
            PooledState state = ch.attr(PooledState.KEY).getAndSet(null);
            if (state != null) {
                state.expiry.cancel(false);
            }
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    /** Returns a connection whose last response was read completely. */
    void release(String key, Channel ch) {
        ArrayDeque<Channel> q = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
        if (!ch.isActive() || q.size() >= MAX_IDLE_PER_DESTINATION) {
            ch.close();
            return;
        }
        q.addLast(ch);
        ScheduledFuture<?> expiry = ch.eventLoop().schedule(() -> evict(key, ch), idleTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        ch.attr(PooledState.KEY).set(new PooledState(expiry));
        // Keep reading while idle so that a close by the origin is noticed before the connection is reused.
        ch.read();
    }

    /** The origin closed an idle connection or sent something unasked: it is no longer reusable. */
    void evict(String key, Channel ch) {
        remove(key, ch);
        ch.close();
    }

    private void remove(String key, Channel ch) {
        ArrayDeque<Channel> q = idle.get(key);
        if (q != null && q.remove(ch) && q.isEmpty()) {
            idle.remove(key);
        }
    }

    int idleCount() {
        return idle.values().stream().mapToInt(ArrayDeque::size).sum();
    }

    private record PooledState(ScheduledFuture<?> expiry) {
        static final io.netty.util.AttributeKey<PooledState> KEY = io.netty.util.AttributeKey.valueOf("pooled");
    }
}
