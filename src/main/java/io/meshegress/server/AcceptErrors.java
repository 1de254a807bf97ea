package io.meshegress.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a listening socket: turns a failed accept into one line an operator can act on, at most
 * every {@value #QUIET_SECONDS} s per listener. Netty's acceptor, before it, already pauses accepting for a
 * second after a failure (so running out of descriptors does not spin); without this the failure would reach
 * the pipeline's end as a stack trace about an "unhandled" exception.
 */
@ChannelHandler.Sharable
final class AcceptErrors extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(AcceptErrors.class);
    static final long QUIET_SECONDS = 10;

    private final String listener;
    private volatile long lastLogged;

    AcceptErrors(String listener) {
        this.listener = listener;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        long now = System.nanoTime();
        if (lastLogged != 0 && now - lastLogged < TimeUnit.SECONDS.toNanos(QUIET_SECONDS)) {
            return;
        }
        lastLogged = now;
        String message = String.valueOf(cause.getMessage());
        if (message.contains("Too many open files")) {
            LOG.warn("{}: out of file descriptors; new connections wait in the listen backlog until some close "
                    + "(raise the limit: ulimit -n, or LimitNOFILE in a systemd unit)", listener);
        } else {
            LOG.warn("{}: accepting a connection failed: {}", listener, message);
        }
    }
}
