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
    private final ClientHelloReader reader = new ClientHelloReader();
    private ByteBuf held;

    /** Takes {@code bytes} (its reference too) and says what everything held so far is. */
    public HelloVerdict add(ByteBufAllocator alloc, ByteBuf bytes) {
        held = held == null ? bytes : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, held, bytes);
        return reader.read(held);
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
