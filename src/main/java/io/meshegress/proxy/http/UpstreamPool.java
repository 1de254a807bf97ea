package io.meshegress.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Kept-alive upstream HTTP connections of one event loop, by destination ({@code host:port}). Confined to its
 * loop, so no locks. Bounded per destination; an idle connection is closed after {@code idleTimeout}, and one
 * that the origin closes (or that sends anything while idle) leaves the pool at once.
 *
 * <p>Expiry costs nothing per request: each connection only notes when it became idle, and one timer per pool
 * wakes when the oldest idle connection is due. The most recently returned connection is reused first, so the
 * oldest are at the head of each queue.
 */
final class UpstreamPool {
    /**
     * Enough for a sidecar's worth of concurrent requests to one destination to find a warm connection (an
     * idle connection costs a file descriptor and a few KiB); more are closed on release.
     */
    static final int MAX_IDLE_PER_DESTINATION = 256;

    private record Idle(Channel channel, long since) {
    }

    private final Map<String, ArrayDeque<Idle>> idle = new HashMap<>();
    private final EventLoop loop;
    private final long idleTimeoutNanos;
    private boolean sweepScheduled;

    UpstreamPool(EventLoop loop, Duration idleTimeout) {
        this.loop = loop;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /** An idle, open connection to {@code key}, or null. */
    Channel acquire(String key) {
        ArrayDeque<Idle> q = idle.get(key);
        while (q != null && !q.isEmpty()) {
            Channel ch = q.pollLast().channel();
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    /** Returns a connection whose last response was read completely. */
    void release(String key, Channel ch) {
        ArrayDeque<Idle> q = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
        if (!ch.isActive() || q.size() >= MAX_IDLE_PER_DESTINATION) {
            ch.close();
            return;
        }
        q.addLast(new Idle(ch, System.nanoTime()));
        if (!sweepScheduled) {
            sweepScheduled = true;
            loop.schedule(this::sweep, idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
        // Keep reading while idle so that a close by the origin is noticed before the connection is reused.
        ch.read();
    }

    /** The origin closed an idle connection or sent something unasked: it is no longer reusable. */
    void evict(String key, Channel ch) {
        ArrayDeque<Idle> q = idle.get(key);
        if (q != null) {
            q.removeIf(e -> e.channel() == ch);
            if (q.isEmpty()) {
                idle.remove(key);
            }
        }
        ch.close();
    }

    /** Closes the connections idle for too long, and wakes again when the next one is due. */
    private void sweep() {
        sweepScheduled = false;
        long now = System.nanoTime();
        long nextDue = Long.MAX_VALUE;
        for (Iterator<ArrayDeque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
            ArrayDeque<Idle> q = it.next();
            while (!q.isEmpty() && now - q.peekFirst().since() >= idleTimeoutNanos) {
                q.pollFirst().channel().close();
            }
            if (q.isEmpty()) {
                it.remove();
            } else {
                nextDue = Math.min(nextDue, q.peekFirst().since() + idleTimeoutNanos);
            }
        }
        if (nextDue != Long.MAX_VALUE) {
            sweepScheduled = true;
            loop.schedule(this::sweep, Math.max(0, nextDue - now), TimeUnit.NANOSECONDS);
        }
    }

    int idleCount() {
        return idle.values().stream().mapToInt(ArrayDeque::size).sum();
    }
}
