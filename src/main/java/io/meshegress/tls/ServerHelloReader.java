package io.meshegress.tls;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Whether a server's first handshake message is a HelloRetryRequest, read from its bytes as they pass, chunk by
 * chunk, without holding any: only the message's first 38 bytes (type, length, legacy_version, random) are
 * copied, reassembled over records as RFC 8446 §5.1 allows a handshake message to be split (empty records
 * included). A first record of another type (an alert, or no TLS at all) is no HelloRetryRequest. Bounded:
 * the 38 bytes must come within {@link #MAX_RECORDS} records. One instance per connection; not thread-safe.
 */
public final class ServerHelloReader {
    /** RFC 8446 §4.1.3: the random of a HelloRetryRequest, SHA-256 of "HelloRetryRequest". */
    static final byte[] HELLO_RETRY_REQUEST_RANDOM = {
        (byte) 0xcf, 0x21, (byte) 0xad, 0x74, (byte) 0xe5, (byte) 0x9a, 0x61, 0x11,
        (byte) 0xbe, 0x1d, (byte) 0x8c, 0x02, 0x1e, 0x65, (byte) 0xb8, (byte) 0x91,
        (byte) 0xc2, (byte) 0xa2, 0x11, 0x16, 0x7a, (byte) 0xbb, (byte) 0x8c, 0x5e,
        0x07, (byte) 0x9e, 0x09, (byte) 0xe2, (byte) 0xc8, (byte) 0xa8, 0x33, (byte) 0x9c,
    };
    /** Records allowed before the first 38 bytes of the message are whole (one byte per record needs 38). */
    public static final int MAX_RECORDS = 64;

    private static final int HANDSHAKE = 22;
    private static final int SERVER_HELLO = 2;
    private static final int RECORD_HEADER = 5;
    /** msg_type, length (3), legacy_version (2), random (32). */
    private static final int NEEDED = 1 + 3 + 2 + 32;
    private static final int RANDOM_AT = 6;

    private final byte[] header = new byte[RECORD_HEADER];
    private int headerHave;
    private int payloadLeft;
    private int records;
    private final byte[] message = new byte[NEEDED];
    private int messageHave;
    private ServerHelloVerdict verdict = ServerHelloVerdict.INCOMPLETE;

    /** The verdict after {@code chunk}'s readable bytes, the next of the server's bytes (not consumed). */
    public ServerHelloVerdict read(ByteBuf chunk) {
        if (!verdict.decided()) {
            verdict = readMore(chunk, chunk.readerIndex(), chunk.writerIndex());
        }
        return verdict;
    }

    private ServerHelloVerdict readMore(ByteBuf in, int from, int end) {
        int i = from;
        while (i < end) {
            if (payloadLeft == 0) {
                int take = Math.min(RECORD_HEADER - headerHave, end - i);
                in.getBytes(i, header, headerHave, take);
                headerHave += take;
                i += take;
                if (headerHave < RECORD_HEADER) {
                    return ServerHelloVerdict.INCOMPLETE;
                }
                headerHave = 0;
                records++;
                int type = header[0] & 0xff;
                if (type != HANDSHAKE) {
                    return records == 1 ? new ServerHelloVerdict.NoRetryRequest()
                            : new ServerHelloVerdict.Unreadable("a " + ClientHelloReader.recordName(type)
                                    + " record inside the server's first handshake message");
                }
                if (records > MAX_RECORDS) {
                    return new ServerHelloVerdict.Unreadable("no ServerHello in the server's first "
                            + MAX_RECORDS + " records");
                }
                payloadLeft = (header[3] & 0xff) << 8 | (header[4] & 0xff);
                continue;
            }
            int take = Math.min(Math.min(payloadLeft, end - i), NEEDED - messageHave);
            in.getBytes(i, message, messageHave, take);
            messageHave += take;
            payloadLeft -= take;
            i += take;
            if (message[0] != SERVER_HELLO) {
                return new ServerHelloVerdict.NoRetryRequest();
            }
            if (messageHave == NEEDED) {
                return Arrays.equals(message, RANDOM_AT, NEEDED, HELLO_RETRY_REQUEST_RANDOM, 0, 32)
                        ? new ServerHelloVerdict.RetryRequest() : new ServerHelloVerdict.NoRetryRequest();
            }
        }
        return ServerHelloVerdict.INCOMPLETE;
    }
}
