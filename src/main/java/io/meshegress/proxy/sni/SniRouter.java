package io.meshegress.proxy.sni;

import io.meshegress.observe.ConnectionRecord;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.Relay;
import io.meshegress.proxy.Route;
import io.meshegress.proxy.TlsAlert;
import io.meshegress.proxy.UpstreamConnector;
import io.meshegress.proxy.UpstreamOutcome;
import io.meshegress.proxy.timer.HandshakeDeadline;
import io.meshegress.text.Quote;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.meshegress.proxy.head.HeldHello;
import io.meshegress.tls.HelloVerdict;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.Optional;

/**
 * Reads a ClientHello as a TLS server reads it ({@link io.meshegress.tls.ClientHelloReader}, shared with the
 * CONNECT tunnel check: records reassembled, empty ones skipped, 64 KiB at most, the whole server_name list),
 * takes its server_name to the upstream connector, and on success hands the connection to the relay with the
 * bytes read so far, unchanged. Failures are answered with a TLS alert: {@code unrecognized_name} for name
 * problems, else {@code handshake_failure}.
 */
final class SniRouter extends ChannelInboundHandlerAdapter {
    private final ProxyRuntime runtime;
    private final UpstreamConnector connector;
    private final ConnectionRecord record;
    private final int upstreamPort;
    private final Duration handshakeTimeout;
    private final HeldHello hello = new HeldHello();
    /** The shared handshake deadline before this handler (looked up once when added). */
    private HandshakeDeadline deadline;
    private ChannelHandlerContext ctx;
    private final Duration idleTimeout;
    private State state = State.READING_HELLO;
    private boolean clientInputEnded;

    /** Where the connection is: reading its hello, waiting for the upstream, or answered and closing. */
    private enum State { READING_HELLO, CONNECTING, DONE }

    SniRouter(ProxyRuntime runtime, ConnectionRecord record, int upstreamPort) {
        this.runtime = runtime;
        this.connector = runtime.connector();
        this.record = record;
        this.upstreamPort = upstreamPort;
        this.handshakeTimeout = runtime.config().timeouts().handshake();
        this.idleTimeout = runtime.config().timeouts().idle();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.deadline = ctx.pipeline().get(HandshakeDeadline.class);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Admitted already (ConnectionHead): read the ClientHello.
        ctx.fireChannelActive();
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.DONE || !(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg); // answered: the lingering close drops the rest
            return;
        }
        HelloVerdict verdict = hello.add(ctx.alloc(), bytes);
        if (state == State.CONNECTING || !verdict.decided()) {
            // While connecting: bytes that came in the same read as the hello are held and go upstream after it.
            return;
        }
        deadline.headReceived();
        if (verdict instanceof HelloVerdict.NotTls) {
            refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 400, "not a TLS ClientHello");
        } else if (verdict instanceof HelloVerdict.Unreadable u) {
            refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 400, u.reason());
        } else if (verdict instanceof HelloVerdict.NoServerName) {
            refuse(ctx, TlsAlert.UNRECOGNIZED_NAME, 400, "ClientHello has no server_name");
        } else if (verdict instanceof HelloVerdict.Named n) {
            route(ctx, n.serverName());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.READING_HELLO) {
            ctx.read();
        }
    }

    private void route(ChannelHandlerContext ctx, String hostname) {
        Optional<String> host = HostPattern.normalizeHost(hostname);
        // The log's host field holds only a valid name; a client's bytes reach the log quoted short and escaped.
        record.destination(host.orElse(null), upstreamPort);
        if (host.isEmpty()) {
            refuse(ctx, TlsAlert.UNRECOGNIZED_NAME, 400, invalidNameReason(hostname));
            return;
        }
        Destination d = new Destination(host.get(), upstreamPort, Destination.Kind.SNI, Downstream.of(ctx.channel()));
        Route route = connector.route(d);
        if (route instanceof Route.Refused r) {
            refused(ctx, r.outcome());
            return;
        }
        Route.Allowed allowed = (Route.Allowed) route;
        record.wouldRefuse(allowed.wouldRefuse());
        state = State.CONNECTING;
        allowed.open(ctx.channel().eventLoop()).addListener(f -> connected(ctx, (UpstreamOutcome) f.getNow()));
    }

    /** The refusal reason for a server_name that is no host name (pure, for the fuzz test too). */
    static String invalidNameReason(String hostname) {
        return "server_name " + Quote.shortly(hostname) + " is not a host name";
    }

    /**
     * A client may send its ClientHello and half-close at once: the end of input is held back until the relay
     * runs; before a complete ClientHello it ends the attempt.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            clientInputEnded = true;
            if (state == State.READING_HELLO) {
                refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 400, "client ended its input before a complete ClientHello");
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownReadComplete) {
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void connected(ChannelHandlerContext ctx, UpstreamOutcome outcome) {
        if (outcome instanceof UpstreamOutcome.Connected c) {
            if (!ctx.channel().isActive()) {
                c.channel().close();
                state = State.DONE;
                hello.release();
                record.refused("client went away before the upstream connected", 499, null).finish();
                return;
            }
            state = State.DONE;
            record.resolved(c.address()).allowed(c.rule(), 200);
            ctx.pipeline().remove(deadline);
            Relay.start(ctx.channel(), c.channel(), record, idleTimeout);
            ChannelPipeline pipeline = ctx.pipeline();
            pipeline.remove(this); // hands the held ClientHello on to the relay
            if (clientInputEnded) {
                // The client half-closed while we were connecting: tell the relay now, after the replayed bytes.
                pipeline.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
            return;
        }
        refused(ctx, (UpstreamOutcome.Refused) outcome);
    }

    private void refused(ChannelHandlerContext ctx, UpstreamOutcome.Refused r) {
        record.resolved(r.resolved());
        TlsAlert alert = r.refusal().nameProblem() ? TlsAlert.UNRECOGNIZED_NAME : TlsAlert.HANDSHAKE_FAILURE;
        refuse(ctx, alert, r.refusal().httpStatus(), r.reason());
    }

    /** The shared handshake deadline ran out before a whole ClientHello arrived. */
    void helloTimedOut() {
        if (state != State.READING_HELLO || record.isFinished()) {
            return;
        }
        refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 408,
                "no complete ClientHello within timeouts.handshake (" + handshakeTimeout.toMillis() + "ms)");
    }

    private void refuse(ChannelHandlerContext ctx, TlsAlert alert, int status, String reason) {
        state = State.DONE;
        hello.release();
        deadline.headReceived(); // answered: the deadline has nothing left to watch
        if (!record.isFinished()) {
            record.refused(reason, status, alert.alertName()).finish();
        }
        if (ctx.channel().isActive()) {
            LingeringClose.after(ctx.writeAndFlush(alert.record(ctx.alloc())));
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf held = hello.take();
        if (held != null) {
            ctx.fireChannelRead(held);
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset before the relay runs: the connection is over, and channelInactive logs it.
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        hello.release();
        if (!record.isFinished()) {
            record.refused("client closed before the tunnel was set up", 499, null).finish();
        }
        ctx.fireChannelInactive();
    }
}
