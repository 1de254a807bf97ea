package io.meshegress.observe;

import java.util.function.Consumer;

/**
 * Where the end of every connection or request is reported: the access log and, through it, metrics.
 * Called on event loops: implementations must not block.
 */
@FunctionalInterface
public interface AccessLog {
    void log(AccessEntry entry);

    /** A tunnel (sni, connect, or an upgraded http request) started relaying on this listener. */
    default void tunnelOpened(String listener) {
    }

    /** That tunnel ended. */
    default void tunnelClosed(String listener) {
    }

    /** Counts every entry and tunnel in {@code metrics}, then hands the entry to {@code lines} (a writer, say). */
    static AccessLog metered(ProxyMetrics metrics, Consumer<AccessEntry> lines) {
        return new AccessLog() {
            @Override
            public void log(AccessEntry entry) {
                metrics.finished(entry);
                lines.accept(entry);
            }

            @Override
            public void tunnelOpened(String listener) {
                metrics.tunnelOpened(listener);
            }

            @Override
            public void tunnelClosed(String listener) {
                metrics.tunnelClosed(listener);
            }
        };
    }
}
