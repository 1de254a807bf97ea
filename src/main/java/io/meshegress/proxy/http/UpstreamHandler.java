package io.meshegress.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream HTTP connection's pipeline: hands responses to the exchange it is bound to. While
 * idle in the pool it is bound to nothing, and anything it then hears (data, a close) makes the connection
 * useless. After a protocol switch (101) it only lets raw bytes through to the tunnel.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private final UpstreamPool pool;
    private final String poolKey;
    private ExchangeForwarder forwarder;
    private HttpExchange exchange;
    private boolean passthrough;

    UpstreamHandler(UpstreamPool pool, String poolKey) {
        this.pool = pool;
        this.poolKey = poolKey;
    }

    void bind(ExchangeForwarder forwarder, HttpExchange exchange) {
        this.forwarder = forwarder;
        this.exchange = exchange;
    }

    void unbind() {
        this.forwarder = null;
        this.exchange = null;
    }

    /** From now on the connection is a tunnel: raw bytes pass, HTTP leftovers are dropped. */
    void passthrough() {
        unbind();
        passthrough = true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (passthrough) {
            if (msg instanceof ByteBuf) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (forwarder == null || !(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            pool.evict(poolKey, ctx.channel());
            return;
        }
        forwarder.onResponse(exchange, (HttpObject) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (passthrough) {
            ctx.fireChannelReadComplete();
        } else if (forwarder != null) {
            forwarder.upstreamReadComplete();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (passthrough) {
            ctx.fireUserEventTriggered(evt);
        } else if (evt instanceof ChannelInputShutdownEvent) {
            // The codec has already turned a close-delimited body's end into its last content.
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (passthrough) {
            ctx.fireChannelInactive();
        } else if (forwarder != null) {
            forwarder.upstreamClosed(exchange, ctx.channel(), null);
        } else {
            pool.evict(poolKey, ctx.channel());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (passthrough) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        ctx.close();
        if (forwarder != null) {
            forwarder.upstreamClosed(exchange, ctx.channel(), cause);
        }
    }
}
