package io.meshegress.proxy;

import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.timer.IdleTimeout;
import io.meshegress.transport.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;

/**
 * Bytes both ways between a client and its upstream, the one relay every tunnel uses. Both channels live on
 * one event loop with auto-read off; each side keeps reading while the other side's outbound buffer is under
 * its high-water mark, and resumes when it drains below the low one (backpressure without a round trip per
 * read). An end of input on one side shuts the other side's output once everything before it was
 * written (half-close), and a channel closes when both its directions are done. No bytes either way for
 * {@code idle} closes both.
 */
public final class Relay {
    private Relay() {
    }

    /**
     * Starts relaying. Handlers are added at the end of each pipeline; anything the client side fires after
     * this (say, a ClientHello still buffered by a decoder being removed) is relayed first.
     */
    public static void start(Channel client, Channel upstream, ConnectionRecord record, Duration idle) {
        record.tunnelStarted();
        int[] closed = {0};
        ChannelFutureListener onClose = f -> {
            if (++closed[0] == 2) {
                record.finish();
            }
        };
        client.closeFuture().addListener(onClose);
        upstream.closeFuture().addListener(onClose);
        upstream.pipeline().addLast("tunnel", new RelayHandler(client, record, false));
        client.pipeline().addLast("tunnel-idle", new IdleTimeout(idle, upstream));
        client.pipeline().addLast("tunnel", new RelayHandler(upstream, record, true));
    }

    private static final class RelayHandler extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final ConnectionRecord record;
        private final boolean fromClient;

        RelayHandler(Channel peer, ConnectionRecord record, boolean fromClient) {
            this.peer = peer;
            this.record = record;
            this.fromClient = fromClient;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                ctx.read();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            long n = msg instanceof ByteBuf ? ((ByteBuf) msg).readableBytes()
                    : msg instanceof ByteBufHolder ? ((ByteBufHolder) msg).content().readableBytes() : 0;
            if (fromClient) {
                record.addBytesUp(n);
            } else {
                record.addBytesDown(n);
            }
            // A failed write surfaces as an exception on the peer's pipeline, whose handler closes both sides.
            peer.write(msg, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
            // Keep reading while the peer takes it; otherwise wait until it drains (channelWritabilityChanged).
            if (peer.isWritable()) {
                ctx.read();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // This side drained below its low-water mark: the other side may read again.
            if (ctx.channel().isWritable() && peer.isActive()) {
                peer.read();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                // Pass the end of input on only after every byte read before it has been written.
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    if (!f.isSuccess() || !(peer instanceof DuplexChannel) || !peer.isActive()
                            || ((DuplexChannel) peer).isInputShutdown()) {
                        // The peer's own input ended before: with nothing left to read either way, a close
                        // sends the same FIN a shutdown would, without a second system call.
                        peer.close();
                        return;
                    }
                    Transport.shutdownOutput((DuplexChannel) peer).addListener(s -> {
                        if (!s.isSuccess()) {
                            peer.close(); // reset by its other end: nothing is left to pass on
                            return;
                        }
                        // Its output done, the peer is over when its input ends: no half-close is left to keep,
                        // so Netty closes it at its end of input instead of shutting an input that the
                        // kernel has already closed (ENOTCONN, an exception with a stack trace).
                        peer.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                        closeIfDone(peer);
                    });
                });
                closeIfDone(ctx.channel());
            } else if (evt instanceof IdleStateEvent) {
                ctx.close();
                peer.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // Deliver what is still queued for the peer, then close it.
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Resets and broken pipes are how connections end on the internet; the access log records the rest.
            ctx.close();
            peer.close();
        }

        private static void closeIfDone(Channel ch) {
            if (ch instanceof DuplexChannel && ((DuplexChannel) ch).isInputShutdown()
                    && ((DuplexChannel) ch).isOutputShutdown()) {
                ch.close();
            }
        }
    }
}
