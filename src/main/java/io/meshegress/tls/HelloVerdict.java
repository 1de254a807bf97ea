package io.meshegress.tls;

/**
 * What the first bytes of a TLS connection say, read as a TLS server reads them ({@link ClientHelloReader}).
 * Every form a server would accept as a ClientHello ends as {@link Named} or {@link NoServerName}; anything that
 * starts like TLS but is not such a ClientHello is {@link Unreadable}, never {@link NotTls}.
 */
public sealed interface HelloVerdict {
    /** Not decided yet: more bytes are needed. */
    Incomplete INCOMPLETE = new Incomplete();

    /** Whether a decision has been made (anything but {@link Incomplete}). */
    default boolean decided() {
        return !(this instanceof Incomplete);
    }

    /** More bytes are needed before anything can be said. */
    record Incomplete() implements HelloVerdict {
    }

    /**
     * A whole ClientHello whose server_name has exactly one host_name entry. {@code serverName} is its bytes as
     * sent (one char per byte, ISO-8859-1), not yet checked as a host name.
     */
    record Named(String serverName, boolean encryptedClientHello) implements HelloVerdict {
    }

    /** A whole ClientHello without a server_name extension (or an SSLv2-format one, which cannot carry one). */
    record NoServerName(boolean encryptedClientHello) implements HelloVerdict {
    }

    /**
     * The first byte is no TLS record type and no SSLv2-format ClientHello: no TLS server would start a
     * handshake on these bytes.
     */
    record NotTls() implements HelloVerdict {
    }

    /** Starts like TLS but is no ClientHello a server could read one name from: the connection must end. */
    record Unreadable(String reason) implements HelloVerdict {
    }
}
