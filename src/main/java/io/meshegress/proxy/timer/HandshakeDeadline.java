package io.meshegress.proxy.timer;

import io.netty.channel.ChannelHandlerContext;
import java.time.Duration;

/**
 * {@code timeouts.handshake}, shared by both listener kinds: a new connection must deliver its first head (a
 * request head, or a whole ClientHello) in time, and on a kept-alive HTTP connection the clock starts with the
 * first byte of the next request (waiting between requests is {@code timeouts.idle}'s business). Sits before
 * the decoder, so it sees raw bytes; the listener says when a head is complete and what to answer if not.
 *
 * <p>A request only moves a {@link Deadline}, so a busy kept-alive connection schedules nothing per request.
 */
public final class HandshakeDeadline extends ConnectionTimerHandler {
    private final long timeoutNanos;
    private final Deadline deadline;
    private boolean awaitingHead = true;
    private ChannelHandlerContext ctx;

    public HandshakeDeadline(Duration timeout, Runnable onTimeout) {
        this.timeoutNanos = timeout.toNanos();
        this.deadline = new Deadline(() -> {
            if (awaitingHead && ctx.channel().isActive()) {
                onTimeout.run();
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        deadline.start(ctx.executor(), timeoutNanos);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && !deadline.running()) {
            deadline.start(ctx.executor(), timeoutNanos);
        }
        ctx.fireChannelRead(msg);
    }

    /** The frontend is ready for the next request: its first byte starts the clock. */
    public void expectHead() {
        awaitingHead = true;
        deadline.clear();
    }

    /** Whether the first bytes of a head have arrived (or a new connection waits for its first) and no more. */
    public boolean headInProgress() {
        return awaitingHead && deadline.running();
    }

    /** A complete head arrived. */
    public void headReceived() {
        awaitingHead = false;
        deadline.clear();
    }

    @Override
    void stopTimer() {
        deadline.cancel();
    }
}
