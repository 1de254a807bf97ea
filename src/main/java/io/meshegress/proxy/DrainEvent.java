package io.meshegress.proxy;

/**
 * Fired on every client connection when the proxy starts draining: a connection between requests closes now,
 * one in the middle of a request closes after its response; tunnels run on until the drain period ends.
 */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
