package io.meshegress.proxy.head;

import io.meshegress.tls.ClientHelloReader;
import io.meshegress.tls.HelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * A connection's first bytes, held while {@link ClientHelloReader} judges them, then handed on whole and
 * unchanged: the SNI listener's and the CONNECT tunnel check's shared way to read a ClientHello. Confined to
 * the connection's event loop; whoever holds one releases it when the connection ends.
 */
public final class HeldHello {
    private final ClientHelloReader reader;
    private ByteBuf held;

    /** Holds a connection's first bytes for its first ClientHello. */
    public HeldHello() {
        this(new ClientHelloReader());
    }

    /** Holds bytes for {@code reader} (say, the reader of a second ClientHello). */
    public HeldHello(ClientHelloReader reader) {
        this.reader = reader;
    }

    /** Takes {@code bytes} (its reference too) and says what everything held so far is. */
    public HelloVerdict add(ByteBufAllocator alloc, ByteBuf bytes) {
        held = held == null ? bytes : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, held, bytes);
        return reader.read(held);
    }

    /** How many bytes are held. */
    public int size() {
        return held == null ? 0 : held.readableBytes();
    }

    /**
     * After a verdict on a ClientHello, the records that carried it (the reader's {@link ClientHelloReader#consumed}
     * bytes from the first held), now the caller's; what came after them stays held. Null when there are none.
     */
    public ByteBuf takeJudged() {
        int n = reader.consumed();
        if (n == 0 || held == null) {
            return null;
        }
        if (n == held.readableBytes()) {
            return take();
        }
        return held.readRetainedSlice(n);
    }

    /** Whether any byte is held. */
    public boolean holding() {
        return held != null && held.isReadable();
    }

    /** The bytes held, now the caller's to pass on or release; null when none. */
    public ByteBuf take() {
        ByteBuf b = held;
        held = null;
        return b;
    }

    public void release() {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
