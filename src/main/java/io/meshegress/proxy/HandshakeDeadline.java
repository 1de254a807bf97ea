package io.meshegress.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.time.Duration;

/**
 * {@code timeouts.handshake}, shared by both listener kinds: a new connection must deliver its first head (a
 * request head, or a whole ClientHello) in time, and on a kept-alive HTTP connection the clock starts with the
 * first byte of the next request (waiting between requests is {@code timeouts.idle}'s business). Sits before
 * the decoder, so it sees raw bytes; the listener says when a head is complete and what to answer if not.
 *
 * <p>A request only moves a deadline; one {@link DeadlineTimer} per connection wakes when a deadline could have
 * passed and sleeps again for what is left, so a busy kept-alive connection schedules nothing per request.
 */
public final class HandshakeDeadline extends ChannelInboundHandlerAdapter {
    private static final long NONE = 0;

    private final long timeoutNanos;
    private final Runnable onTimeout;
    private boolean awaitingHead = true;
    /** When the head now awaited must be complete, or NONE while no head is in progress. */
    private long deadline = NONE;
    private final DeadlineTimer timer = new DeadlineTimer();
    private ChannelHandlerContext ctx;

    public HandshakeDeadline(Duration timeout, Runnable onTimeout) {
        this.timeoutNanos = timeout.toNanos();
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
        if (awaitingHead && deadline == NONE) {
            arm();
        }
        ctx.fireChannelRead(msg);
    }

    /** The frontend is ready for the next request: its first byte starts the clock. */
    public void expectHead() {
        awaitingHead = true;
        deadline = NONE;
    }

    /** Whether the first bytes of a head have arrived (or a new connection waits for its first) and no more. */
    public boolean headInProgress() {
        return awaitingHead && deadline != NONE;
    }

    /** A complete head arrived. */
    public void headReceived() {
        awaitingHead = false;
        deadline = NONE;
    }

    private void arm() {
        deadline = System.nanoTime() + timeoutNanos;
        if (deadline == NONE) {
            deadline = 1;
        }
        if (!timer.armed()) {
            timer.arm(ctx.executor(), timeoutNanos, this::check);
        }
    }

    private void check() {
        if (!awaitingHead || deadline == NONE || !ctx.channel().isActive()) {
            return; // the next head arms it again
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            deadline = NONE;
            onTimeout.run();
        } else {
            timer.arm(ctx.executor(), left, this::check);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        timer.cancel();
        super.channelInactive(ctx);
    }
}
