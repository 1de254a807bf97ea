package io.meshegress.observe;

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
}
