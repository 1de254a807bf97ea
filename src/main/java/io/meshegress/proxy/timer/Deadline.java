package io.meshegress.proxy.timer;

import io.netty.util.concurrent.EventExecutor;

/**
 * A deadline that moves without rescheduling: setting it is a field store, and one {@link DeadlineTimer} wakes
 * when it could have passed and sleeps again for what is left. So a busy kept-alive connection schedules
 * nothing per request. When it has passed, {@code expired} runs once; clearing it before then is free.
 * Confined to the connection's event loop.
 */
public final class Deadline {
    private static final long NONE = 0;

    private final Runnable expired;
    private final DeadlineTimer timer = new DeadlineTimer();
    private EventExecutor executor;
    private long at = NONE;

    public Deadline(Runnable expired) {
        this.expired = expired;
    }

    /** From now, {@code timeoutNanos} until {@code expired} runs, unless cleared first. */
    public void start(EventExecutor executor, long timeoutNanos) {
        this.executor = executor;
        long due = System.nanoTime() + timeoutNanos;
        at = due == NONE ? 1 : due;
        if (!timer.armed()) {
            timer.arm(executor, timeoutNanos, this::check);
        }
    }

    public boolean running() {
        return at != NONE;
    }

    /** Nothing is awaited any more (the timer, if armed, wakes once for nothing). */
    public void clear() {
        at = NONE;
    }

    public void cancel() {
        at = NONE;
        timer.cancel();
    }

    private void check() {
        if (at == NONE) {
            return; // the next start arms it again
        }
        long left = at - System.nanoTime();
        if (left > 0) {
            timer.arm(executor, left, this::check);
        } else {
            at = NONE;
            expired.run();
        }
    }
}
