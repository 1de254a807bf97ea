package io.meshegress.tls;

/**
 * What a server's first bytes say about the handshake, read by {@link ServerHelloReader}: whether it asks the
 * client for another ClientHello.
 */
public sealed interface ServerHelloVerdict {
    /** Not decided yet: more bytes are needed. */
    Incomplete INCOMPLETE = new Incomplete();

    /** Whether a decision has been made (anything but {@link Incomplete}). */
    default boolean decided() {
        return !(this instanceof Incomplete);
    }

    /** More bytes are needed before anything can be said. */
    record Incomplete() implements ServerHelloVerdict {
    }

    /**
     * A HelloRetryRequest (RFC 8446 §4.1.4: a ServerHello whose random is the special value of §4.1.3): the
     * server will read a second ClientHello.
     */
    record RetryRequest() implements ServerHelloVerdict {
    }

    /**
     * Anything else a server starts with: a ServerHello with another random, another handshake message, an
     * alert, bytes that are not TLS. The server reads no second ClientHello after it.
     */
    record NoRetryRequest() implements ServerHelloVerdict {
    }

    /** Handshake records that never yield the start of a whole first message within the bound. */
    record Unreadable(String reason) implements ServerHelloVerdict {
    }
}
