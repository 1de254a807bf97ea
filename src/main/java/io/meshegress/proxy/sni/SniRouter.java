package io.meshegress.proxy.sni;

import io.meshegress.proxy.TlsAlert;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.HandshakeDeadline;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.Refusal;
import io.meshegress.proxy.Relay;
import io.meshegress.proxy.RouteTable;
import io.meshegress.proxy.UpstreamConnector;
import io.meshegress.proxy.UpstreamOutcome;
import io.meshegress.text.Quote;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * Reads a ClientHello (Netty's parser: split across segments and records, 64 KiB at most), takes its
 * server_name to the upstream connector, and on success hands the connection to the relay; the bytes read so
 * far stay in the decoder's buffer and go upstream unchanged when this handler leaves the pipeline.
 * Failures are answered with a TLS alert: {@code unrecognized_name} for name problems, else
 * {@code handshake_failure}.
 */
final class SniRouter extends AbstractSniHandler<UpstreamOutcome> {
    static final int MAX_CLIENT_HELLO = 64 * 1024;

    private final ProxyRuntime runtime;
    private final UpstreamConnector connector;
    private final ConnectionRecord record;
    private final int upstreamPort;
    private final Duration handshakeTimeout;
    /** The shared handshake deadline before this handler (looked up once when added). */
    private HandshakeDeadline deadline;
    private ChannelHandlerContext ctx;
    private final Duration idleTimeout;
    private boolean helloComplete;
    private boolean sawClientHello;
    private boolean clientInputEnded;

    SniRouter(ProxyRuntime runtime, ConnectionRecord record, int upstreamPort) {
        // Netty's own timer would also count DNS and connect time; ours stops once the ClientHello is in.
        super(MAX_CLIENT_HELLO, 0L);
        this.runtime = runtime;
        this.connector = runtime.connector();
        this.record = record;
        this.upstreamPort = upstreamPort;
        this.handshakeTimeout = runtime.config().timeouts().handshake();
        this.idleTimeout = runtime.config().timeouts().idle();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.deadline = ctx.pipeline().get(HandshakeDeadline.class);
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // Admitted already (ConnectionHead): read the ClientHello.
        super.channelActive(ctx);
        ctx.read();
    }

    @Override
    protected Future<UpstreamOutcome> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        // Netty passes null when the bytes are not a TLS ClientHello at all; remember it to answer apart
        // from a ClientHello that merely lacks server_name.
        sawClientHello = clientHello != null;
        helloComplete = true;
        deadline.headReceived();
        return super.lookup(ctx, clientHello);
    }

    @Override
    protected Future<UpstreamOutcome> lookup(ChannelHandlerContext ctx, String hostname) {
        if (!sawClientHello) {
            return refused(ctx, Refusal.CONNECT_FAILED, "not a TLS ClientHello", 400, TlsAlert.HANDSHAKE_FAILURE);
        }
        if (hostname == null) {
            return refused(ctx, Refusal.NAME_INVALID, "ClientHello has no server_name", 400, TlsAlert.UNRECOGNIZED_NAME);
        }
        Optional<String> host = HostPattern.normalizeHost(hostname);
        // The log's host field holds only a valid name; a client's bytes reach the log quoted short and escaped.
        record.destination(host.orElse(null), upstreamPort);
        if (host.isEmpty()) {
            return refused(ctx, Refusal.NAME_INVALID, invalidNameReason(hostname), 400, TlsAlert.UNRECOGNIZED_NAME);
        }
        Destination d = new Destination(host.get(), upstreamPort, Destination.Kind.SNI, Downstream.of(ctx.channel()));
        RouteTable.Verdict verdict = connector.decide(d);
        if (!verdict.allowed()) {
            return ctx.executor().newSucceededFuture(new UpstreamOutcome.Refused(verdict.refusal(), verdict.toString(),
                    null));
        }
        record.wouldRefuse(verdict.wouldRefuse());
        return connector.open(d, verdict, ctx.channel().eventLoop());
    }

    /** The refusal reason for a server_name that is no host name (pure, for the fuzz test too). */
    static String invalidNameReason(String hostname) {
        return "server_name " + Quote.shortly(hostname) + " is not a host name";
    }

    /**
     * A client may send its ClientHello and half-close at once. The decoder would drop what it buffered on
     * that event, so it is held back until the relay runs; before a complete ClientHello it ends the attempt.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            clientInputEnded = true;
            if (!helloComplete) {
                refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 400, "client ended its input before a complete ClientHello");
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownReadComplete) {
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private Future<UpstreamOutcome> refused(ChannelHandlerContext ctx, Refusal refusal, String reason, int status,
                                            TlsAlert alert) {
        record.refused(reason, status, alert.alertName());
        return ctx.executor().newSucceededFuture(new UpstreamOutcome.Refused(refusal, reason, null));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<UpstreamOutcome> future) {
        UpstreamOutcome outcome = future.getNow();
        if (outcome instanceof UpstreamOutcome.Connected) {
            UpstreamOutcome.Connected c = (UpstreamOutcome.Connected) outcome;
            if (!ctx.channel().isActive()) {
                c.channel().close();
                record.refused("client went away before the upstream connected", 499, null).finish();
                return;
            }
            record.resolved(c.address()).allowed(c.rule(), 200);
            ctx.pipeline().remove(HelloFailureHandler.class);
            ctx.pipeline().remove(deadline);
            Relay.start(ctx.channel(), c.channel(), record, idleTimeout);
            ChannelPipeline pipeline = ctx.pipeline();
            pipeline.remove(this);
            if (clientInputEnded) {
                // The client half-closed while we were connecting: tell the relay now, after the replayed bytes.
                pipeline.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
            return;
        }
        UpstreamOutcome.Refused r = (UpstreamOutcome.Refused) outcome;
        record.resolved(r.resolved());
        TlsAlert alert = r.refusal().nameProblem() ? TlsAlert.UNRECOGNIZED_NAME : TlsAlert.HANDSHAKE_FAILURE;
        refuse(ctx, alert, r.refusal().httpStatus(), r.reason());
    }

    /** The shared handshake deadline ran out before a whole ClientHello arrived. */
    void helloTimedOut() {
        if (helloComplete || record.isFinished()) {
            return;
        }
        refuse(ctx, TlsAlert.HANDSHAKE_FAILURE, 408,
                "no complete ClientHello within timeouts.handshake (" + handshakeTimeout.toMillis() + "ms)");
    }

    private void refuse(ChannelHandlerContext ctx, TlsAlert alert, int status, String reason) {
        deadline.headReceived(); // answered: the deadline has nothing left to watch
        if (!record.isFinished()) {
            record.refused(reason, status, alert.alertName()).finish();
        }
        if (ctx.channel().isActive()) {
            LingeringClose.after(ctx.writeAndFlush(alert.record(ctx.alloc())));
        }
    }


    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!record.isFinished()) {
            record.refused("client closed before the tunnel was set up", 499, null).finish();
        }
        super.channelInactive(ctx);
    }
}
