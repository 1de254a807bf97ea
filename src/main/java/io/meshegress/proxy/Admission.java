package io.meshegress.proxy;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Who may open a connection to the proxy listeners at all: a client in {@code policy.clients}, within
 * {@code limits.connections} overall and {@code limits.connectionsPerClient} from one address. A connection
 * holds its place until it closes. Shared by every listener of a server and safe across event loops.
 */
public final class Admission {

    /** Why a connection was turned away, with the HTTP status that says so. */
    public record Denial(int status, String reason) {
    }

    private final ProxyMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> openPerClient = new ConcurrentHashMap<>();

    /** The counts outlive reloads: connections that started under an older config still hold their places. */
    public Admission(ProxyMetrics metrics) {
        this.metrics = metrics;
        metrics.openConnections(open::get);
    }

    /**
     * Admits an accepted connection under the policy and limits of the config it starts with, or says why not;
     * an admitted one is released when it closes.
     */
    public Optional<Denial> admit(Channel ch, RouteTable routes, EgressConfig.Limits limits) {
        Downstream downstream = Downstream.of(ch);
        InetAddress client = downstream.client().getAddress();
        RouteTable.Verdict d = routes.client(client, downstream.identity());
        if (!d.allowed()) {
            metrics.admissionRefused(d.refusal() == Refusal.IDENTITY_NOT_READY ? "identity_not_ready" : "clients");
            return Optional.of(new Denial(d.refusal().httpStatus(), d.toString()));
        }
        if (open.incrementAndGet() > limits.connections()) {
            open.decrementAndGet();
            metrics.admissionRefused("connections");
            return Optional.of(new Denial(503, "refused by limits.connections (" + limits.connections()
                    + " connections are open)"));
        }
        boolean[] admitted = {false};
        openPerClient.compute(client, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= limits.connectionsPerClient()) {
                return n;
            }
            admitted[0] = true;
            return current + 1;
        });
        if (!admitted[0]) {
            open.decrementAndGet();
            metrics.admissionRefused("connections_per_client");
            return Optional.of(new Denial(503, "refused by limits.connectionsPerClient ("
                    + limits.connectionsPerClient() + " connections from " + client.getHostAddress() + " are open)"));
        }
        ch.closeFuture().addListener(f -> release(client));
        return Optional.empty();
    }

    private void release(InetAddress client) {
        openPerClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
        if (open.decrementAndGet() == 0) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Waits until no admitted connection is open, or the deadline ({@link System#nanoTime()}) passes. */
    public synchronized boolean awaitNoneOpen(long deadlineNanos) throws InterruptedException {
        while (open.get() > 0) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** Connections admitted and not yet closed. */
    public int open() {
        return open.get();
    }
}
