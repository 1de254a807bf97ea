package io.meshegress.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;

/** {@link DeterministicBytes} as a Netty chunked input, so test origins stream large bodies with backpressure. */
final class DeterministicChunks implements ChunkedInput<ByteBuf> {
    private final DeterministicBytes bytes;
    private final long length;
    private final byte[] block = new byte[DeterministicBytes.BLOCK];

    DeterministicChunks(long seed, long length) {
        this.bytes = new DeterministicBytes(seed, length);
        this.length = length;
    }

    @Override
    public boolean isEndOfInput() {
        return bytes.remaining() == 0;
    }

    @Override
    public void close() {
    }

    @Override
    @Deprecated
    public ByteBuf readChunk(ChannelHandlerContext ctx) {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) {
        int n = bytes.next(block);
        return n == 0 ? null : allocator.buffer(n).writeBytes(block, 0, n);
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return length - bytes.remaining();
    }
}
