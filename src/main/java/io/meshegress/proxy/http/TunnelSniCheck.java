package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.TlsAlert;
import io.meshegress.proxy.head.HeldHello;
import io.meshegress.proxy.timer.Deadline;
import io.meshegress.tls.ClientHelloReader;
import io.meshegress.tls.HelloVerdict;
import io.meshegress.tls.ServerHelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * {@code http.connectSniCheck}: the first bytes of a CONNECT tunnel are read as a TLS server reads them
 * ({@link io.meshegress.tls.ClientHelloReader}: records reassembled, the whole server_name list) before
 * any of them go upstream, and judged by {@link TunnelHelloPolicy}: a ClientHello must name the host the CONNECT
 * named, or the tunnel ends with an access_denied alert, logged {@code sni_mismatch}: otherwise a client allowed
 * to reach one name on a shared front end could ask it for another (domain fronting). Bytes that start like TLS
 * but are no readable ClientHello, whole within {@code timeouts.handshake}, end it too ({@code sni_unreadable}).
 * Bytes that are not TLS pass unchanged.
 *
 * <p>A server may answer the first ClientHello with a HelloRetryRequest (RFC 8446 §4.1.4) and then read a second
 * one, and OpenSSL's and the JDK's servers take the server_name of the second. So once the first ClientHello has
 * passed, its records go upstream and {@link ServerHelloWatch} reads the server's first message as it passes;
 * whatever the client sends meanwhile is held (a client has nothing to send before the server answers, but early
 * data; past {@link ClientHelloReader#MAX_RECORD_BYTES} the client is not read). A ServerHello that is not a
 * HelloRetryRequest hands the tunnel to the plain relay; a HelloRetryRequest has the client's next handshake
 * message (behind change_cipher_spec or early-data records) held and judged like the first, within
 * {@code timeouts.handshake}. Once it has decided, this leaves, handing on what it held.
 */
final class TunnelSniCheck extends ChannelInboundHandlerAdapter {
    static final String NAME = "connect-sni-check";

    /** What the check waits for. */
    private enum Stage {
        /** The tunnel's first bytes: its first ClientHello, or not TLS. */
        FIRST_HELLO,
        /** The first ClientHello went upstream; the server's first message says whether a second one comes. */
        SERVER_HELLO,
        /** The server asked for another ClientHello: the client's next one. */
        SECOND_HELLO,
        /** Refused: the tunnel is closing. */
        ENDED
    }

    private final TunnelHelloPolicy policy;
    private final ConnectionRecord record;
    private final Channel upstream;
    private final HttpListenerContext context;
    private HeldHello hello = new HeldHello();
    /** Runs from the first byte, and again from a HelloRetryRequest: a silent client is not mid-hello. */
    private final Deadline deadline;
    private ChannelHandlerContext ctx;
    private Stage stage = Stage.FIRST_HELLO;
    private ServerHelloVerdict serverHello = ServerHelloVerdict.INCOMPLETE;
    /** The last verdict on the bytes held after the first ClientHello, read as a second ClientHello. */
    private HelloVerdict second = HelloVerdict.INCOMPLETE;
    private boolean firstCarriedEch;
    /** The client's end of input, come while bytes are held for the server's answer: it follows them. */
    private Object inputEnded;

    TunnelSniCheck(String connectHost, HttpListenerContext context, ConnectionRecord record, Channel upstream) {
        this.policy = new TunnelHelloPolicy(connectHost, context.listener.connectSniCheck(), context.listener.echPolicy());
        this.context = context;
        this.record = record;
        this.upstream = upstream;
        this.deadline = new Deadline(() -> {
            if (ctx.channel().isActive() && (stage == Stage.FIRST_HELLO || stage == Stage.SECOND_HELLO)) {
                refuse(new TunnelHelloPolicy.Refused(TlsAlert.HANDSHAKE_FAILURE, 408, "sni_unreadable: no complete "
                        + (stage == Stage.FIRST_HELLO ? "ClientHello" : "second ClientHello after the server's "
                        + "HelloRetryRequest") + " within timeouts.handshake ("
                        + context.timeouts.handshake().toMillis() + "ms)"));
            }
        });
    }

    /** The watch on the upstream's first bytes that reports to this check. */
    ServerHelloWatch serverHelloWatch() {
        return new ServerHelloWatch(this::serverSpoke);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (stage == Stage.ENDED || !(msg instanceof ByteBuf bytes)) {
            if (stage == Stage.ENDED) {
                ReferenceCountUtil.release(msg); // refused: the lingering close drops the rest
            } else {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        switch (stage) {
            case FIRST_HELLO -> {
                if (!deadline.running()) {
                    deadline.start(ctx.executor(), context.timeouts.handshake().toNanos());
                }
                first(hello.add(ctx.alloc(), bytes));
            }
            case SERVER_HELLO -> second = hello.add(ctx.alloc(), bytes);
            case SECOND_HELLO -> second(hello.add(ctx.alloc(), bytes));
            default -> throw new IllegalStateException(stage.name());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (stage == Stage.ENDED) {
            ctx.fireChannelReadComplete();
        } else if (stage != Stage.SERVER_HELLO || hello.size() < ClientHelloReader.MAX_RECORD_BYTES) {
            ctx.read(); // the relay reads on only once it has seen bytes
        }
    }

    private void first(HelloVerdict verdict) {
        TunnelHelloPolicy.Judgement j = policy.judge(verdict, TunnelHelloPolicy.Hello.FIRST);
        if (j instanceof TunnelHelloPolicy.Wait) {
            return;
        }
        firstCarriedEch = countEch(verdict, false);
        if (j instanceof TunnelHelloPolicy.Refused r) {
            refuse(r);
        } else if (j instanceof TunnelHelloPolicy.NotTls) {
            pass();
        } else {
            awaitServerHello();
        }
    }

    /** The first ClientHello's records go upstream; the rest is held until the server's first message. */
    private void awaitServerHello() {
        deadline.cancel();
        ByteBuf judged = hello.takeJudged();
        if (judged == null) {
            pass(); // an SSLv2-format hello: no TLS 1.3, so no HelloRetryRequest
            return;
        }
        ByteBuf rest = hello.take();
        hello = new HeldHello(ClientHelloReader.afterHelloRetryRequest());
        if (rest != null) {
            second = hello.add(ctx.alloc(), rest);
        }
        stage = Stage.SERVER_HELLO;
        ctx.fireChannelRead(judged);
        ctx.fireChannelReadComplete(); // the relay flushes it upstream and reads on
        if (serverHello.decided()) {
            serverSpoke(serverHello); // the server spoke first
        }
    }

    /** {@link ServerHelloWatch}'s verdict; whether the server's bytes go on to the client. */
    private boolean serverSpoke(ServerHelloVerdict verdict) {
        serverHello = verdict;
        if (stage == Stage.ENDED) {
            return false;
        }
        if (verdict instanceof ServerHelloVerdict.Unreadable u) {
            refuse(new TunnelHelloPolicy.Refused(TlsAlert.HANDSHAKE_FAILURE, 502, "sni_unreadable: " + u.reason()
                    + " (http.connectSniCheck)"));
            return false;
        }
        if (stage != Stage.SERVER_HELLO) {
            return true; // before the first ClientHello passed: acted on when it does
        }
        if (verdict instanceof ServerHelloVerdict.RetryRequest) {
            stage = Stage.SECOND_HELLO;
            deadline.start(ctx.executor(), context.timeouts.handshake().toNanos());
            second(second);
        } else {
            pass();
        }
        return stage != Stage.ENDED;
    }

    private void second(HelloVerdict verdict) {
        second = verdict;
        TunnelHelloPolicy.Judgement j = policy.judge(verdict, TunnelHelloPolicy.Hello.AFTER_RETRY_REQUEST);
        if (j instanceof TunnelHelloPolicy.Wait) {
            if (inputEnded != null) {
                refuse(new TunnelHelloPolicy.Refused(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: the client "
                        + "ended its input before a complete second ClientHello (http.connectSniCheck)"));
            }
            return;
        }
        countEch(verdict, firstCarriedEch);
        if (j instanceof TunnelHelloPolicy.Refused r) {
            refuse(r);
        } else {
            pass();
        }
    }

    /**
     * Counts an Encrypted Client Hello (once a tunnel: not again when the first hello carried one already) and
     * says whether this hello carries one.
     */
    private boolean countEch(HelloVerdict verdict, boolean counted) {
        boolean ech = TunnelHelloPolicy.encryptedClientHello(verdict);
        if (ech && !counted) {
            context.runtime.metrics().encryptedClientHello(context.listenerName,
                    policy.echPolicy() == EgressConfig.EchPolicy.REFUSE ? "refused" : "allowed");
        }
        return ech;
    }

    /** The tunnel goes on as a plain relay: what was held goes first. */
    private void pass() {
        deadline.cancel();
        stopWatchingServer();
        ctx.pipeline().remove(this);
    }

    private void refuse(TunnelHelloPolicy.Refused r) {
        stage = Stage.ENDED;
        deadline.cancel();
        hello.release();
        inputEnded = null;
        record.refused(r.reason(), r.status(), r.alert().alertName());
        upstream.close();
        LingeringClose.after(ctx.writeAndFlush(r.alert().record(ctx.alloc())));
    }

    private void stopWatchingServer() {
        if (upstream.pipeline().get(ServerHelloWatch.NAME) != null) {
            upstream.pipeline().remove(ServerHelloWatch.NAME);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && stage != Stage.ENDED && hello.holding()) {
            if (stage == Stage.SERVER_HELLO) {
                inputEnded = evt; // passed on behind the bytes held, once the server has answered
            } else {
                refuse(new TunnelHelloPolicy.Refused(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: the client "
                        + "ended its input before a complete " + (stage == Stage.FIRST_HELLO ? "" : "second ")
                        + "ClientHello (http.connectSniCheck)"));
            }
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
        if (inputEnded != null) {
            ctx.fireUserEventTriggered(inputEnded);
            inputEnded = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline.cancel();
        hello.release();
        ctx.fireChannelInactive();
    }
}
