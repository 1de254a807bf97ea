package io.meshegress.identity;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Credential checks under way, by the credential's cache key: requests that bring the same credential while it
 * is being checked wait for that one check instead of starting their own (a pod's first connections, or every
 * connection after a remembered verdict expires, would otherwise send the API server a TokenReview each, or
 * run bcrypt each).
 *
 * <p>A check stays here only while it is under way, whatever its outcome. Only checks the {@link CheckQueue}
 * took are under way long (one it refuses as busy is answered, and removed, before {@link #share} returns), so
 * a flood of distinct credentials holds at most the queue's bound here. A request that joins another's check
 * takes no place in the queue and costs the checker nothing; the queue's bounds still count the checks it runs,
 * per client address.
 */
final class CoalescedChecks<V> {
    private final ConcurrentHashMap<ByteBuffer, CompletableFuture<V>> underWay = new ConcurrentHashMap<>();

    /**
     * The verdict remembered in {@code cache} for {@code key} at once; else that of the check under way for it;
     * else of {@code check}, run now on {@code queue} under {@code client}'s bounds. A request that joined a check
     * the queue refused as busy under another client's bound tries once more under its own.
     */
    CompletableFuture<V> verdict(CredentialCache<V> cache, ByteBuffer key, CheckQueue queue, InetAddress client,
            Supplier<V> check) {
        return verdict(cache, key, queue, client, check, true);
    }

    private CompletableFuture<V> verdict(CredentialCache<V> cache, ByteBuffer key, CheckQueue queue,
            InetAddress client, Supplier<V> check, boolean mayRetry) {
        V known = cache.get(key);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        return share(key, () -> {
            // A check that ended between the look-up above and now has left its verdict in the cache.
            V justKnown = cache.get(key);
            return justKnown != null ? CompletableFuture.completedFuture(justKnown) : queue.submit(client, check);
        }, mayRetry ? () -> verdict(cache, key, queue, client, check, false) : null);
    }

    /**
     * The verdict of the check under way for {@code key}, or of one started now with {@code start} (which is
     * called at most once, on this thread). A request that joined a check the queue refused as busy (that
     * client's bound, not this one's) tries once more on its own with {@code onBusy}; null: it does not.
     */
    private CompletableFuture<V> share(ByteBuffer key, Supplier<CompletableFuture<V>> start,
            Supplier<CompletableFuture<V>> onBusy) {
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> under = underWay.putIfAbsent(key, mine);
        if (under != null) {
            // A copy: no waiter can complete or cancel what the others wait for.
            return onBusy == null ? under.copy() : under.exceptionallyCompose(t -> busy(t) ? onBusy.get()
                    : CompletableFuture.failedFuture(t));
        }
        CompletableFuture<V> started;
        try {
            started = start.get();
        } catch (RuntimeException | Error e) {
            started = CompletableFuture.failedFuture(e);
        }
        started.whenComplete((v, failure) -> {
            // Gone before the waiters hear of it: one that asks again then starts a new check.
            underWay.remove(key, mine);
            if (failure != null) {
                mine.completeExceptionally(failure);
            } else {
                mine.complete(v);
            }
        });
        return mine.copy();
    }

    private static boolean busy(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return cause instanceof CheckQueue.Busy;
    }

    /** Checks under way now (for the tests of the bound). */
    int size() {
        return underWay.size();
    }
}
