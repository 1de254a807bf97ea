package io.meshegress.identity;

import java.net.InetAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Where credential checks run: a few threads of their own, never an event loop (a bcrypt check costs tens to
 * hundreds of milliseconds of CPU; a TokenReview waits on the API server). At most {@code maxWaiting} checks wait
 * or run at once, and at most {@code perClient} of one client address, so a flood of wrong passwords from one
 * client cannot take every place; a check over either bound is not queued but answered {@code busy} at once.
 * Shared by every configuration (a reload does not double the threads).
 */
final class CheckQueue {
    /**
     * bcrypt: half the cores (at least one), so the event loops keep the rest; two checks of one client address at
     * a time (a client's parallel requests with one password share a check), so a newcomer waits behind at most
     * two checks of each flooding address.
     */
    static final CheckQueue BCRYPT = new CheckQueue("bcrypt",
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2), 32, 2);
    /** TokenReview: waits on the network, not the CPU. */
    static final CheckQueue TOKEN_REVIEW = new CheckQueue("token-review", 4, 64, 4);

    /** Over a bound: answered without waiting. */
    static final class Busy extends RuntimeException {
        Busy() {
            super("credentials_busy", null, false, false);
        }
    }

    private final ThreadPoolExecutor pool;
    private final int maxWaiting;
    private final int perClient;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

    CheckQueue(String name, int threads, int maxWaiting, int perClient) {
        this.maxWaiting = maxWaiting;
        this.perClient = perClient;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(maxWaiting), r -> {
                    Thread t = new Thread(r, "credentials-" + name + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code check} off the caller's thread, or fails at once with {@link Busy} over a bound. */
    <T> CompletableFuture<T> submit(InetAddress client, Supplier<T> check) {
        if (inFlight.incrementAndGet() > maxWaiting) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new Busy());
        }
        boolean[] admitted = {false};
        perAddress.compute(client, (k, c) -> {
            int now = c == null ? 0 : c;
            if (now >= perClient) {
                return c;
            }
            admitted[0] = true;
            return now + 1;
        });
        if (!admitted[0]) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new Busy());
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            pool.execute(() -> {
                try {
                    result.complete(check.get());
                } catch (RuntimeException | Error e) {
                    // Answered whatever happens: requests, and those that joined the check, wait on it.
                    result.completeExceptionally(e);
                } finally {
                    release(client);
                }
            });
        } catch (RejectedExecutionException e) {
            release(client);
            return CompletableFuture.failedFuture(new Busy());
        }
        return result;
    }

    private void release(InetAddress client) {
        perAddress.computeIfPresent(client, (k, c) -> c <= 1 ? null : c - 1);
        inFlight.decrementAndGet();
    }

    /** Checks waiting or running now (for the tests of the bounds). */
    int inFlight() {
        return inFlight.get();
    }
}
