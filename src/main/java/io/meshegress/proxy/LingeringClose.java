package io.meshegress.proxy;

import io.meshegress.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a client connection after a refusal so that the client can read it. Closing a socket that still has
 * unread input makes the kernel send a reset, which can overtake the answer just written (a 403, a TLS
 * alert); like nginx's lingering close, this sends FIN after the answer, then reads and drops whatever the
 * client still sends until it closes too, for at most {@value #LINGER_MS} ms.
 */
public final class LingeringClose {
    static final long LINGER_MS = 2000;

    private LingeringClose() {
    }

    /** Once {@code lastWrite} is done, ends the connection gracefully. */
    public static void after(ChannelFuture lastWrite) {
        Channel ch = lastWrite.channel();
        lastWrite.addListener(f -> {
            if (!ch.isActive()) {
                return;
            }
            if (!f.isSuccess() || !(ch instanceof DuplexChannel)) {
                ch.close();
                return;
            }
            // The close is scheduled first: whatever happens below, the connection ends within LINGER_MS.
            ch.eventLoop().schedule(() -> {
                ch.close();
            }, LINGER_MS, TimeUnit.MILLISECONDS);
            ch.pipeline().addFirst("linger", new Discard());
            if (!Transport.shutdownOutput((DuplexChannel) ch).isSuccess()) {
                ch.close(); // the peer is gone (reset): nothing is left to linger for
                return;
            }
            ch.config().setAutoRead(true);
        });
    }

    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
        }
    }
}
