package io.meshegress.proxy.head;

import io.meshegress.proxy.Admission;
import io.meshegress.proxy.ProxyRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Optional;

/**
 * The first handler of every listener's pipeline: admission ({@code policy.clients} through the route table,
 * and the connection limits) before a byte of the client's is read. A refused connection never becomes active
 * for the rest of the pipeline (so no deadline arms and nothing reads); the listener's own {@link Refuser}
 * turns the refusal into bytes (an HTTP status, a TLS alert). An admitted one leaves this handler behind.
 */
public final class ConnectionHead extends ChannelInboundHandlerAdapter {

    /** How a listener kind says no at the head: log the connection, answer, close. */
    @FunctionalInterface
    public interface Refuser {
        void refuse(Channel ch, int status, String reason);
    }

    private final Admission admission;
    private final ProxyRuntime runtime;
    private final Refuser refuser;
    private boolean refused;

    public ConnectionHead(Admission admission, ProxyRuntime runtime, Refuser refuser) {
        this.admission = admission;
        this.runtime = runtime;
        this.refuser = refuser;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Optional<Admission.Denial> denial = admission.admit(ctx.channel(), runtime.routes(),
                runtime.config().limits());
        if (denial.isPresent()) {
            refused = true;
            refuser.refuse(ctx.channel(), denial.get().status(), denial.get().reason());
            return;
        }
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }

    /**
     * Bytes that reach a refused connection (those a PROXY header brought along) are dropped here, so the
     * listener's handlers behind never act on them.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            io.netty.util.ReferenceCountUtil.release(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }
}
