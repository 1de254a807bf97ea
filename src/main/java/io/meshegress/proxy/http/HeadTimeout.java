package io.meshegress.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code timeouts.handshake} for request heads: a new connection must deliver its first head in time, and on a
 * kept-alive connection the clock starts with the first byte of the next request (waiting between requests is
 * {@code timeouts.idle}'s business). Sits before the decoder, so it sees raw bytes.
 */
final class HeadTimeout extends ChannelInboundHandlerAdapter {
    private final Duration timeout;
    private final Runnable onTimeout;
    private boolean awaitingHead = true;
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext ctx;

    HeadTimeout(Duration timeout, Runnable onTimeout) {
        this.timeout = timeout;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        arm();
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && timer == null) {
            arm();
        }
        ctx.fireChannelRead(msg);
    }

    /** The frontend is ready for the next request: its first byte starts the clock. */
    void expectHead() {
        awaitingHead = true;
    }

    /** A complete head arrived. */
    void headReceived() {
        awaitingHead = false;
        cancel();
    }

    private void arm() {
        cancel();
        timer = ctx.executor().schedule(() -> {
            timer = null;
            if (awaitingHead) {
                onTimeout.run();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }
}
