package io.meshegress.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder (strict line parsing; it already refuses Content-Length with Transfer-Encoding,
 * differing Content-Lengths, bad chunk sizes and bare CR) plus one check it lacks: obsolete line folding
 * (a header line starting with a space or tab), which Netty would join into the previous value. Folding is
 * a classic request-smuggling vector, so it is refused (RFC 9112 section 5.2 allows a 400).
 */
final class ProxyRequestDecoder extends HttpRequestDecoder {
    static final int MAX_INITIAL_LINE = 16 * 1024;
    static final int MAX_HEADER_SIZE = 64 * 1024;
    static final int MAX_CHUNK = 64 * 1024;

    private boolean expectingHead = true;
    private boolean failed;

    ProxyRequestDecoder() {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE)
                .setMaxChunkSize(MAX_CHUNK)
                .setStrictLineParsing(true));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (expectingHead && hasObsFold(in)) {
            failed = true;
            in.skipBytes(in.readableBytes());
            HttpMessage invalid = createInvalidMessage();
            invalid.setDecoderResult(DecoderResult.failure(
                    new IllegalArgumentException("obsolete line folding in a header")));
            out.add(invalid);
            return;
        }
        int before = out.size();
        super.decode(ctx, in, out);
        for (int i = before; i < out.size(); i++) {
            Object m = out.get(i);
            if (m instanceof HttpMessage) {
                expectingHead = false;
            }
            if (m instanceof LastHttpContent) {
                expectingHead = true;
            }
        }
    }

    /**
     * Looks at the head that starts at the reader index (after any empty lines) up to its blank line, or as
     * far as it has arrived: a line break followed by a space or tab is folding.
     */
    static boolean hasObsFold(ByteBuf in) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        while (i < end && (in.getByte(i) == '\r' || in.getByte(i) == '\n')) {
            i++;
        }
        for (; i + 1 < end; i++) {
            if (in.getByte(i) == '\n') {
                byte next = in.getByte(i + 1);
                if (next == ' ' || next == '\t') {
                    return true;
                }
                if (next == '\r' || next == '\n') {
                    return false;
                }
            }
        }
        return false;
    }
}
