package io.meshegress.admin;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;

/**
 * The headers every admin answer carries, whoever wrote it: the endpoints, or Netty's aggregator refusing an
 * oversized request or an {@code Expect}. Sits right after the codec, so nothing is written past it.
 * {@code nosniff}: a browser takes each answer as the type it says (a JSON or text answer is never run as HTML).
 */
@ChannelHandler.Sharable
final class AdminResponseHeaders extends ChannelOutboundHandlerAdapter {
    static final AdminResponseHeaders INSTANCE = new AdminResponseHeaders();

    private AdminResponseHeaders() {
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            response.headers().set("X-Content-Type-Options", "nosniff");
            if (!response.headers().contains(HttpHeaderNames.CACHE_CONTROL)) {
                response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
            }
        }
        ctx.write(msg, promise);
    }
}
