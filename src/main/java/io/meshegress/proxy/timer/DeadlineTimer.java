package io.meshegress.proxy.timer;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one timer a connection's timeout keeps. Its owner moves a deadline on every event (a field store) and
 * arms this only when it is not armed; when it fires, the owner acts or arms it again for what is left. So a
 * busy connection schedules nothing per request or per read. Confined to the connection's event loop.
 */
public final class DeadlineTimer {
    private ScheduledFuture<?> future;

    public boolean armed() {
        return future != null;
    }

    /** Runs {@code check} on {@code executor} after {@code delayNanos}, unless cancelled first. */
    public void arm(EventExecutor executor, long delayNanos, Runnable check) {
        future = executor.schedule(() -> {
            future = null;
            check.run();
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    public void cancel() {
        if (future != null) {
            future.cancel(false);
            future = null;
        }
    }
}
