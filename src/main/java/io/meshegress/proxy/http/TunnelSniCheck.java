package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.TlsAlert;
import io.meshegress.proxy.head.HeldHello;
import io.meshegress.proxy.timer.Deadline;
import io.meshegress.tls.HelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.Optional;

/**
 * {@code http.connectSniCheck}: the first bytes of a CONNECT tunnel are read as a TLS server reads them
 * ({@link io.meshegress.tls.ClientHelloReader}: records reassembled, the whole server_name list) before
 * any of them go upstream. A ClientHello must name the host the CONNECT named (case and a trailing dot aside),
 * or the tunnel ends with an access_denied alert, logged {@code sni_mismatch}: otherwise a client allowed to
 * reach one name on a shared front end could ask it for another (domain fronting). Bytes that start like TLS
 * but are no readable ClientHello, whole within {@code timeouts.handshake}, end it too ({@code sni_unreadable}).
 * With {@code require}, a ClientHello without server_name ends it ({@code sni_missing}); with {@code true} it
 * passes. Encrypted Client Hello is counted, and refused with {@code http.echPolicy: refuse}. Bytes that are
 * not TLS pass unchanged. Sits before the relay; once it has decided it leaves, handing on what it held.
 */
final class TunnelSniCheck extends ChannelInboundHandlerAdapter {
    static final String NAME = "connect-sni-check";

    private final String connectHost;
    private final EgressConfig.ConnectSniCheck mode;
    private final EgressConfig.EchPolicy echPolicy;
    private final ConnectionRecord record;
    private final Channel upstream;
    private final HttpListenerContext context;
    private final HeldHello hello = new HeldHello();
    /** Runs from the first byte: a client that speaks second (SSH, SMTP) may be silent, but not mid-hello. */
    private final Deadline deadline;
    private ChannelHandlerContext ctx;
    private boolean decided;

    TunnelSniCheck(String connectHost, HttpListenerContext context, ConnectionRecord record, Channel upstream) {
        this.connectHost = connectHost;
        this.mode = context.listener.connectSniCheck();
        this.echPolicy = context.listener.echPolicy();
        this.context = context;
        this.record = record;
        this.upstream = upstream;
        this.deadline = new Deadline(() -> {
            if (!decided && ctx.channel().isActive()) {
                refuse(TlsAlert.HANDSHAKE_FAILURE, 408, "sni_unreadable: no complete ClientHello within "
                        + "timeouts.handshake (" + context.timeouts.handshake().toMillis() + "ms)");
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided || !(msg instanceof ByteBuf bytes)) {
            if (decided) {
                ReferenceCountUtil.release(msg); // refused: the lingering close drops the rest
            } else {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        if (!deadline.running()) {
            deadline.start(ctx.executor(), context.timeouts.handshake().toNanos());
        }
        decide(hello.add(ctx.alloc(), bytes));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!decided) {
            ctx.read(); // the relay reads on only once it has seen bytes
        } else {
            ctx.fireChannelReadComplete();
        }
    }

    private void decide(HelloVerdict verdict) {
        if (verdict instanceof HelloVerdict.NotTls) {
            pass();
        } else if (verdict instanceof HelloVerdict.Unreadable u) {
            refuse(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: " + u.reason() + " (http.connectSniCheck)");
        } else if (verdict instanceof HelloVerdict.NoServerName n && echAllowed(n.encryptedClientHello())) {
            if (mode == EgressConfig.ConnectSniCheck.REQUIRE) {
                refuse(TlsAlert.ACCESS_DENIED, 403, "sni_missing: the tunnel's ClientHello names no server, the "
                        + "CONNECT named " + connectHost + " (http.connectSniCheck: require)");
            } else {
                pass();
            }
        } else if (verdict instanceof HelloVerdict.Named n && echAllowed(n.encryptedClientHello())) {
            Optional<String> named = HostPattern.normalizeHost(n.serverName());
            if (named.isPresent() && named.get().equals(connectHost)) {
                pass();
            } else {
                refuse(TlsAlert.ACCESS_DENIED, 403, "sni_mismatch: the tunnel's ClientHello names "
                        + named.orElse("an invalid name") + ", the CONNECT named " + connectHost
                        + " (http.connectSniCheck)");
            }
        }
        // Incomplete: wait for more.
    }

    /** Counts an Encrypted Client Hello and says whether the tunnel may go on (refusing it if not). */
    private boolean echAllowed(boolean ech) {
        if (!ech) {
            return true;
        }
        boolean refused = echPolicy == EgressConfig.EchPolicy.REFUSE;
        context.runtime.metrics().encryptedClientHello(context.listenerName, refused ? "refused" : "allowed");
        if (refused) {
            refuse(TlsAlert.ACCESS_DENIED, 403, "encrypted_client_hello refused by http.echPolicy (the tunnel's "
                    + "real server name would be hidden)");
        }
        return !refused;
    }

    /** The tunnel goes on: what was held goes to the relay first. */
    private void pass() {
        decided = true;
        deadline.cancel();
        ctx.pipeline().remove(this);
    }

    private void refuse(TlsAlert alert, int status, String reason) {
        decided = true;
        deadline.cancel();
        hello.release();
        record.refused(reason, status, alert.alertName());
        upstream.close();
        LingeringClose.after(ctx.writeAndFlush(alert.record(ctx.alloc())));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !decided && hello.holding()) {
            refuse(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: the client ended its input before a complete "
                    + "ClientHello (http.connectSniCheck)");
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        deadline.cancel();
        ByteBuf held = hello.take();
        if (held != null) {
            ctx.fireChannelRead(held);
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline.cancel();
        hello.release();
        ctx.fireChannelInactive();
    }
}
