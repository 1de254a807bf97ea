package io.meshegress.proxy.sni;

import io.meshegress.proxy.TlsAlert;
import io.meshegress.observe.ConnectionRecord;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SniCompletionEvent;

/**
 * Sits behind {@link SniRouter} for the failures Netty's ClientHello parser decides itself (a ClientHello
 * over the size limit, records that are not TLS). Netty announces them with an event and then closes the
 * connection; the alert written here goes out before that close.
 */
final class HelloFailureHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionRecord record;

    HelloFailureHandler(ConnectionRecord record) {
        this.record = record;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent && !((SniCompletionEvent) evt).isSuccess() && !record.isFinished()) {
            Throwable cause = ((SniCompletionEvent) evt).cause();
            String reason = cause instanceof TooLongFrameException
                    ? "ClientHello larger than " + SniRouter.MAX_CLIENT_HELLO + " bytes"
                    : "not a TLS ClientHello";
            record.refused(reason, 400, TlsAlert.HANDSHAKE_FAILURE.alertName()).finish();
            ctx.writeAndFlush(TlsAlert.HANDSHAKE_FAILURE.record(ctx.alloc()));
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The decoder's own failures arrive here after the event above; the connection is already closing.
        ctx.close();
    }
}
