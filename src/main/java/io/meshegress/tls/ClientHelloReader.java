package io.meshegress.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * The first handshake message of a connection, reassembled from TLS records as RFC 8446 §5.1 and RFC 5246
 * §6.2.1 define them: a handshake message may be split over any number of records, and a record may even be
 * empty (TLS 1.3 forbids sending one, OpenSSL's record layer still accepts it). Only a whole, parseable
 * ClientHello ({@link ClientHelloBody}) gives a name or "no name"; everything else that starts like TLS is
 * {@link HelloVerdict.Unreadable}, so no reading by a real server can find a name this one missed.
 *
 * <p>Not TLS: a first byte that is no TLS record type (20 to 23) and no SSLv2-format ClientHello (high bit set,
 * third byte 1, as OpenSSL recognises it). A first record of type 20, 21 or 23 is refused rather than passed:
 * Go's server drops warning alerts before the ClientHello and reads on. Any record version is accepted on the
 * way (Go accepts versions up to 0x0fff on the first record), as a server would.
 *
 * <p>After a HelloRetryRequest ({@link #afterHelloRetryRequest}) the client's next handshake message is read the
 * same way, from the first byte the client sent after the records of its first ClientHello. Before it, records a
 * TLS 1.3 server reads past are skipped: change_cipher_spec (RFC 8446 D.4: a client in middlebox compatibility
 * mode sends one before its second ClientHello) and application_data (early data, which a server that asked
 * for another ClientHello skips, RFC 8446 §4.2.10). Skipping more than a server would is safe: the message
 * behind them is judged all the same. Anything else there, TLS or not, is {@link HelloVerdict.Unreadable}.
 *
 * <p>Incremental and pure: {@link #read} is given all bytes received so far (from the connection's first byte,
 * at the buffer's reader index, never consumed) and continues where it stopped, so a hello arriving a byte at a
 * time costs linear work. One instance per connection; not thread-safe.
 */
public final class ClientHelloReader {
    /** The largest ClientHello body read (as on the SNI listener); a bigger one is unreadable. */
    public static final int MAX_HELLO = 64 * 1024;
    /** Record bytes (headers and payloads) allowed before the ClientHello is whole: bounds fragmentation. */
    public static final int MAX_RECORD_BYTES = 2 * MAX_HELLO;
    /** RFC 8446 §5.1: "The length MUST NOT exceed 2^14 bytes" (record_overflow otherwise). */
    static final int MAX_RECORD_PAYLOAD = 1 << 14;

    private static final int CHANGE_CIPHER_SPEC = 20;
    private static final int HANDSHAKE = 22;
    private static final int APPLICATION_DATA = 23;
    private static final int CLIENT_HELLO = 1;
    private static final int RECORD_HEADER = 5;

    /** Which of a connection's ClientHellos this reads. */
    private enum Hello { FIRST, AFTER_RETRY_REQUEST }

    private final Hello hello;
    /** Offset (from the first byte) of the next record header not yet read. */
    private int next;
    /** The handshake bytes of records read so far, when the message spans more than one record. */
    private byte[] assembled;
    private int assembledLength;
    private HelloVerdict verdict = HelloVerdict.INCOMPLETE;

    /** A reader of a connection's first ClientHello. */
    public ClientHelloReader() {
        this(Hello.FIRST);
    }

    private ClientHelloReader(Hello hello) {
        this.hello = hello;
    }

    /**
     * A reader of the ClientHello a client sends after the server's HelloRetryRequest (RFC 8446 §4.1.4), given
     * the bytes from the first after the records of the first ClientHello.
     */
    public static ClientHelloReader afterHelloRetryRequest() {
        return new ClientHelloReader(Hello.AFTER_RETRY_REQUEST);
    }

    /** The verdict on {@code in}'s readable bytes: the connection's bytes from its first on. */
    public HelloVerdict read(ByteBuf in) {
        if (verdict.decided()) {
            return verdict;
        }
        verdict = readMore(in, in.readerIndex(), in.writerIndex());
        return verdict;
    }

    private HelloVerdict readMore(ByteBuf in, int base, int end) {
        if (next == 0 && hello == Hello.FIRST) {
            if (end - base < 1) {
                return HelloVerdict.INCOMPLETE;
            }
            int first = in.getUnsignedByte(base);
            if (first != HANDSHAKE) {
                return notHandshake(in, base, end, first);
            }
        }
        while (true) {
            int at = base + next;
            if (end - at < RECORD_HEADER) {
                return HelloVerdict.INCOMPLETE;
            }
            int type = in.getUnsignedByte(at);
            boolean beforeMessage = hello == Hello.AFTER_RETRY_REQUEST && assembled == null;
            boolean skipped = beforeMessage && (type == CHANGE_CIPHER_SPEC || type == APPLICATION_DATA);
            if (type != HANDSHAKE && !skipped) {
                return new HelloVerdict.Unreadable("a " + recordName(type) + " record "
                        + (beforeMessage ? "where the second ClientHello must come"
                        : "inside the ClientHello"));
            }
            int length = in.getUnsignedShort(at + 3);
            if (length > MAX_RECORD_PAYLOAD) {
                return new HelloVerdict.Unreadable("a record of " + length + " bytes (TLS allows 16384)");
            }
            if (next + RECORD_HEADER + length > MAX_RECORD_BYTES) {
                return new HelloVerdict.Unreadable("no whole ClientHello in " + MAX_RECORD_BYTES + " bytes of records");
            }
            if (end - at < RECORD_HEADER + length) {
                // The header says what comes: refuse an oversized or wrong message before it is all here.
                return skipped ? HelloVerdict.INCOMPLETE
                        : early(in, at + RECORD_HEADER, Math.min(end, at + RECORD_HEADER + length));
            }
            next += RECORD_HEADER + length;
            if (skipped) {
                continue;
            }
            HelloVerdict v = append(in, at + RECORD_HEADER, length);
            if (v.decided()) {
                return v;
            }
        }
    }

    /** The first byte is not a handshake record's: not TLS, an SSLv2-format hello, or a record to refuse. */
    private static HelloVerdict notHandshake(ByteBuf in, int base, int end, int first) {
        if (first >= 20 && first <= 23) {
            return new HelloVerdict.Unreadable("a " + recordName(first) + " record where the ClientHello must come");
        }
        if ((first & 0x80) != 0) {
            if (end - base < 3) {
                return HelloVerdict.INCOMPLETE;
            }
            // SSLv2 record header (two bytes, high bit set), then msg_type client_hello(1): OpenSSL's servers
            // still read it as a ClientHello, which has no extensions and so no server_name.
            return in.getUnsignedByte(base + 2) == CLIENT_HELLO ? new HelloVerdict.NoServerName(false)
                    : new HelloVerdict.NotTls();
        }
        return new HelloVerdict.NotTls();
    }

    /** The whole record at {@code from} (its payload, {@code length} bytes) joins the handshake message. */
    private HelloVerdict append(ByteBuf in, int from, int length) {
        if (assembled == null && length >= 4) {
            // The common case: the first record holds the message header, maybe the whole message.
            HelloVerdict v = header(in, from, length);
            if (v.decided()) {
                return v;
            }
            int messageEnd = 4 + in.getUnsignedMedium(from + 1);
            if (messageEnd <= length) {
                return messageEnd < length ? afterHello() : ClientHelloBody.parse(in, from + 4, from + messageEnd);
            }
        }
        if (assembled == null) {
            assembled = new byte[Math.max(64, length)];
        }
        if (assembledLength + length > assembled.length) {
            assembled = Arrays.copyOf(assembled,
                    Math.min(4 + MAX_HELLO + MAX_RECORD_PAYLOAD, Math.max(assembled.length * 2, assembledLength + length)));
        }
        in.getBytes(from, assembled, assembledLength, length);
        assembledLength += length;
        if (assembledLength < 4) {
            return HelloVerdict.INCOMPLETE;
        }
        ByteBuf message = Unpooled.wrappedBuffer(assembled, 0, assembledLength);
        HelloVerdict v = header(message, 0, assembledLength);
        if (v.decided()) {
            return v;
        }
        int messageEnd = 4 + message.getUnsignedMedium(1);
        if (assembledLength < messageEnd) {
            return HelloVerdict.INCOMPLETE;
        }
        return assembledLength > messageEnd ? afterHello() : ClientHelloBody.parse(message, 4, messageEnd);
    }

    /**
     * Handshake bytes after the ClientHello in its last record. A client has nothing to send behind its
     * ClientHello before the server answers; a second ClientHello there would be read by a server after a
     * HelloRetryRequest (the JDK's server engine matches its server_name again) out of bytes that went
     * upstream with the first.
     */
    private static HelloVerdict afterHello() {
        return new HelloVerdict.Unreadable("handshake bytes after the ClientHello in its record");
    }

    /**
     * How many bytes, from the first, the records read so far span: after a verdict on a ClientHello, exactly the
     * records that carried it (0 when the verdict came from the first bytes alone).
     */
    public int consumed() {
        return next;
    }

    /** Checks on what has come of a record still arriving: its message header, once there is one. */
    private HelloVerdict early(ByteBuf in, int from, int to) {
        if (assembledLength == 0 && to - from >= 4) {
            return header(in, from, to - from);
        }
        return HelloVerdict.INCOMPLETE;
    }

    /** The handshake message header at {@code from} ({@code available} >= 4 bytes): a ClientHello, not too big. */
    private static HelloVerdict header(ByteBuf in, int from, int available) {
        int type = in.getUnsignedByte(from);
        if (type != CLIENT_HELLO) {
            return new HelloVerdict.Unreadable("the first handshake message is of type " + type + ", not ClientHello");
        }
        int length = in.getUnsignedMedium(from + 1);
        if (length > MAX_HELLO) {
            return new HelloVerdict.Unreadable("ClientHello larger than " + MAX_HELLO + " bytes (" + length + ")");
        }
        return HelloVerdict.INCOMPLETE;
    }

    static String recordName(int type) {
        return switch (type) {
            case 20 -> "change_cipher_spec";
            case 21 -> "alert";
            case 22 -> "handshake";
            case 23 -> "application_data";
            default -> "type " + type;
        };
    }
}
