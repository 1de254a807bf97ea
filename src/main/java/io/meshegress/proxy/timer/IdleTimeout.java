package io.meshegress.proxy.timer;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;

/**
 * {@code timeouts.idle}: fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} once no byte has moved either way
 * for the timeout. A read or a write only notes the time; one timer per connection wakes when the timeout could
 * have run out and sleeps again for what is left. Bytes still draining from an outbound buffer (this
 * connection's, or a tunnel peer's whose reads it paused) count as movement, so a slow reader is not idle.
 *
 * <p>Netty's {@code IdleStateHandler} does the same job but attaches a listener to every write (a new promise
 * per relayed buffer) and reschedules on every expiry; this one costs a field store per event.
 */
public final class IdleTimeout extends ConnectionTimerHandler {
    private final long timeoutNanos;
    private final Channel peer;
    private ChannelHandlerContext ctx;
    private final DeadlineTimer timer = new DeadlineTimer();
    private long lastActivity;
    private long lastPending;

    /**
     * @param peer the other side of a tunnel whose draining writes also count as activity, or null
     */
    public IdleTimeout(Duration timeout, Channel peer) {
        this.timeoutNanos = timeout.toNanos();
        this.peer = peer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        super.channelActive(ctx);
    }

    private void start() {
        lastActivity = System.nanoTime();
        if (!timer.armed()) {
            timer.arm(ctx.executor(), timeoutNanos, this::check);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastActivity = System.nanoTime();
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        lastActivity = System.nanoTime();
        ctx.write(msg, promise);
    }

    private void check() {
        if (!ctx.channel().isOpen()) {
            return;
        }
        long now = System.nanoTime();
        long pending = pending(ctx.channel()) + (peer == null ? 0 : pending(peer));
        if (pending != lastPending) {
            lastPending = pending;
            lastActivity = now;
        }
        long idleFor = now - lastActivity;
        if (idleFor >= timeoutNanos) {
            lastActivity = now;
            ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
            idleFor = 0;
        }
        if (ctx.channel().isOpen()) {
            timer.arm(ctx.executor(), timeoutNanos - idleFor, this::check);
        }
    }

    private static long pending(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    @Override
    void stopTimer() {
        timer.cancel();
    }
}
