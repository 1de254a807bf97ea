package io.meshegress.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder (strict line parsing; it already refuses Content-Length with Transfer-Encoding,
 * differing Content-Lengths, bad chunk sizes and bare CR) plus two things it lacks.
 * <p>
 * Obsolete line folding (a header line starting with a space or tab), which Netty would join into the previous
 * value, is refused: folding is a classic request-smuggling vector (RFC 9112 section 5.2 allows a 400).
 * <p>
 * Behind a request that may turn the connection into a tunnel (a CONNECT, or an upgrade request) the next
 * bytes are not HTTP until the answer says so (RFC 9110 sections 7.8 and 9.3.6): a client may already have
 * sent its first tunnel bytes (a ClientHello, a WebSocket frame). The decoder then holds every byte unparsed.
 * When the connection becomes a tunnel, the decoder is removed and Netty hands what it holds on, in order, to
 * the relay; when it stays HTTP (the upgrade was declined), {@link #resume()} parses them as the next request.
 */
final class ProxyRequestDecoder extends HttpRequestDecoder {
    static final int MAX_INITIAL_LINE = 16 * 1024;
    static final int MAX_HEADER_SIZE = 64 * 1024;
    static final int MAX_CHUNK = 64 * 1024;

    /** Where the byte stream stands. */
    private enum Reading {
        /** The next bytes are a request head (after any empty lines). */
        HEAD,
        /** A request's body (or the end of its framing) is still to come. */
        MESSAGE,
        /** Behind a request that may become a tunnel: bytes are held unparsed until the connection decides. */
        HELD,
        /** The stream broke HTTP beyond repair: everything else is dropped unread. */
        FAILED
    }

    private Reading reading = Reading.HEAD;
    /** The request being read may turn the connection into a tunnel once it is complete. */
    private boolean tunnelCandidate;
    /** Inside this decoder's own read, where the running decode loop picks up a {@link #resume()} by itself. */
    private boolean decoding;
    private ChannelHandlerContext ctx;

    ProxyRequestDecoder() {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE)
                .setMaxChunkSize(MAX_CHUNK)
                .setStrictLineParsing(true));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    /** The connection stays HTTP after a request it held bytes behind: they are parsed as the next request. */
    void resume() {
        if (reading != Reading.HELD) {
            return;
        }
        reading = Reading.HEAD;
        if (!decoding && !ctx.isRemoved()) {
            // Nothing new may arrive (the client sent its next request and waits): decode what is held now.
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
                channelReadComplete(ctx);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        boolean outer = !decoding;
        decoding = true;
        try {
            super.channelRead(ctx, msg);
        } finally {
            if (outer) {
                decoding = false;
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (reading == Reading.HELD) {
            // Netty asks for more input when a read decoded nothing; held bytes wait for the answer instead,
            // so at most what one read brought is held.
            discardSomeReadBytes();
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        switch (reading) {
            case FAILED -> {
                in.skipBytes(in.readableBytes());
                return;
            }
            case HELD -> {
                return; // left in the cumulation, unread
            }
            case HEAD -> {
                if (hasObsFold(in)) {
                    reading = Reading.FAILED;
                    in.skipBytes(in.readableBytes());
                    HttpMessage invalid = createInvalidMessage();
                    invalid.setDecoderResult(DecoderResult.failure(
                            new IllegalArgumentException("obsolete line folding in a header")));
                    out.add(invalid);
                    return;
                }
            }
            default -> { }
        }
        int before = out.size();
        super.decode(ctx, in, out);
        for (int i = before; i < out.size(); i++) {
            Object m = out.get(i);
            if (m instanceof HttpMessage message) {
                reading = Reading.MESSAGE;
                tunnelCandidate = message.decoderResult().isSuccess() && message instanceof HttpRequest r
                        && (HttpMethod.CONNECT.equals(r.method()) || HeaderHygiene.isUpgrade(r.headers()));
            }
            if (m instanceof LastHttpContent) {
                reading = tunnelCandidate ? Reading.HELD : Reading.HEAD;
                tunnelCandidate = false;
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (reading == Reading.HELD) {
            // The client's input ended (or the connection closed) while bytes were held: they are handed on
            // raw rather than dropped with the decoder's buffer; a tunnel still relays them.
            if (in.isReadable()) {
                out.add(in.readRetainedSlice(in.readableBytes()));
            }
            return;
        }
        super.decodeLast(ctx, in, out);
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
