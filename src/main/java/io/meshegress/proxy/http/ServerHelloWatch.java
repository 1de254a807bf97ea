package io.meshegress.proxy.http;

import io.meshegress.tls.ServerHelloReader;
import io.meshegress.tls.ServerHelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Predicate;

/**
 * The upstream side of {@link TunnelSniCheck}: reads the server's first handshake message as its bytes pass to
 * the client, holding none ({@link ServerHelloReader}), says whether it is a HelloRetryRequest, and leaves. An
 * upstream that ends its output first sent none.
 */
final class ServerHelloWatch extends ChannelInboundHandlerAdapter {
    static final String NAME = "connect-sni-check-server-hello";

    private final ServerHelloReader reader = new ServerHelloReader();
    /** Told the verdict; says whether the server's bytes go on (false: the tunnel ended). */
    private final Predicate<ServerHelloVerdict> verdicts;

    ServerHelloWatch(Predicate<ServerHelloVerdict> verdicts) {
        this.verdicts = verdicts;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            ServerHelloVerdict verdict = reader.read(bytes);
            if (verdict.decided()) {
                boolean goesOn = verdicts.test(verdict);
                if (!goesOn) {
                    ReferenceCountUtil.release(msg);
                    leave(ctx);
                    return;
                }
                ctx.fireChannelRead(msg);
                leave(ctx);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            verdicts.test(new ServerHelloVerdict.NoRetryRequest());
            leave(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static void leave(ChannelHandlerContext ctx) {
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(ctx.handler());
        }
    }
}
