package io.meshegress.proxy.timer;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;

/**
 * A handler that owns a timer of its connection: the timer stops when the connection ends or the handler leaves
 * the pipeline (a tunnel replaces the HTTP handlers), whichever comes first, so no timer outlives its channel.
 */
abstract class ConnectionTimerHandler extends ChannelDuplexHandler {

    /** Cancels the timer; called once or more, on the event loop. */
    abstract void stopTimer();

    @Override
    public final void handlerRemoved(ChannelHandlerContext ctx) {
        stopTimer();
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stopTimer();
        super.channelInactive(ctx);
    }
}
