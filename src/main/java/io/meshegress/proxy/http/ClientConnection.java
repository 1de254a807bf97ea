package io.meshegress.proxy.http;

import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.DrainEvent;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.Relay;
import io.meshegress.proxy.timer.HandshakeDeadline;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Optional;

/**
 * One client connection of the HTTP listener: it reads request heads, routes each by its own target (CONNECT
 * authority, absolute URI, or Host, also on a kept-alive connection, because a sidecar pools requests for many
 * hosts on one connection), and owns what belongs to the connection rather than to one request: the pipelining
 * queue, drain, half-close, the head deadline and the writes to the client. Requests are served one at a time
 * in order; a CONNECT becomes a {@link ConnectTunnel}, anything else is forwarded by the {@link
 * ExchangeForwarder}.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    static final String HEAD_TIMEOUT = "http-head-timeout";
    static final String DECODER = "http-decoder";
    static final String ENCODER = "http-encoder";
    static final String IDLE = "http-idle";
    static final String HANDLER = "http-client";

    /**
     * SERVING reads and acts on requests; CLOSING has sent (or is sending) an answer that ends the connection,
     * so whatever the client sent behind it (pipelined requests, tunnel bytes after a refused CONNECT) is
     * dropped unread; CLOSED is gone.
     */
    private enum ClientState { SERVING, CLOSING, CLOSED }

    private final HttpListenerContext context;
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Downstream downstream;
    private HandshakeDeadline headDeadline;
    private ProxyResponseEncoder encoder;
    private ProxyRequestDecoder decoder;
    private ExchangeForwarder forwarder;
    private HttpExchange exchange;
    private ClientState state = ClientState.SERVING;
    /** The client half-closed, or the server drains: the exchange under way is the last. */
    private boolean clientInputEnded;
    private boolean draining;
    /** The newest write to the client, so a close waits for everything before it. */
    private ChannelFuture lastClientWrite;

    ClientConnection(HttpListenerContext context) {
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Added before this handler (HttpListenerInitializer); looked up once rather than by name per request.
        this.headDeadline = (HandshakeDeadline) ctx.pipeline().get(HEAD_TIMEOUT);
        this.encoder = (ProxyResponseEncoder) ctx.pipeline().get(ENCODER);
        this.decoder = (ProxyRequestDecoder) ctx.pipeline().get(DECODER);
        this.downstream = Downstream.of(ctx.channel());
        EventLoop loop = ctx.channel().eventLoop();
        this.forwarder = new ExchangeForwarder(this, context, context.pool(loop), downstream, loop);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // Admitted already (ConnectionHead): ask for the first request.
        super.channelActive(ctx);
        ctx.read();
    }

    /** The HTTP listener's way of saying no at the connection head: a 403 or 503 naming the rule, then close. */
    static void refuseAtHead(HttpListenerContext context, Channel ch, int status, String reason) {
        Downstream.of(ch).record(context.accessLog, "http")
                .refused(reason, status, null).finish();
        if (ch.pipeline().get(ENCODER) == null) {
            // Refused by the PROXY protocol head, before the listener's own pipeline was there.
            ch.pipeline().addFirst(ENCODER, new ProxyResponseEncoder());
        }
        // From the channel, so the response passes the encoder further down the pipeline.
        LingeringClose.after(ch.writeAndFlush(ErrorResponse.of(HttpResponseStatus.valueOf(status), reason, true)));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state != ClientState.SERVING) {
            ReferenceCountUtil.release(msg);
            return;
        }
        HttpExchange x = exchange;
        if (x == null) {
            if (msg instanceof HttpRequest) {
                start((HttpRequest) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } else if (x.tunnel()) {
            x.hold(msg);
        } else if (!x.requestDone()) {
            forwarder.onRequestContent(x, msg);
        } else {
            queued.add(msg);
        }
    }

    private void start(HttpRequest req) {
        headDeadline.headReceived();
        boolean connect = HttpMethod.CONNECT.equals(req.method());
        HttpExchange x = new HttpExchange(req, downstream.record(context.accessLog, connect ? "connect" : "http"));
        x.judgedAs(downstream);
        exchange = x;
        if (req.decoderResult().isFailure()) {
            ReferenceCountUtil.release(req);
            x.record().destination(null, 0);
            if (req.decoderResult().cause() instanceof TooLongFrameException) {
                fail(x, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "request head too large (limits: request line 16 KiB, headers 64 KiB)", true);
            } else {
                fail(x, HttpResponseStatus.BAD_REQUEST,
                        "malformed request: " + req.decoderResult().cause().getMessage(), true);
            }
            return;
        }
        Optional<MessageChecks.Problem> problem = MessageChecks.head(req);
        if (problem.isPresent()) {
            ReferenceCountUtil.release(req);
            x.record().destination(null, 0);
            fail(x, problem.get().status(), problem.get().reason(), true);
            return;
        }
        try {
            x.targeted(RequestTarget.parse(req.method(), req.uri(), req.headers().get(HttpHeaderNames.HOST)));
        } catch (RequestTarget.Invalid e) {
            fail(x, HttpResponseStatus.BAD_REQUEST, e.getMessage(), x.hasBody());
            return;
        }
        x.record().destination(x.target().host(), x.target().port());
        ProxyAuthentication.check(this, context, x, () -> {
            if (connect) {
                ConnectTunnel.open(this, context, x);
            } else {
                forwarder.forward(x);
            }
        });
    }

    // ---- what the exchange and the tunnel ask of the connection ----------------------------------

    Downstream downstream() {
        return downstream;
    }

    EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    boolean active() {
        return ctx.channel().isActive();
    }

    /** The exchange under way is the connection's last: the client half-closed or the server drains. */
    boolean lastExchange() {
        return clientInputEnded || draining;
    }

    void read() {
        ctx.read();
    }

    void flush() {
        ctx.flush();
    }

    ChannelFuture toClient(Object msg) {
        lastClientWrite = ctx.writeAndFlush(msg);
        return lastClientWrite;
    }

    /**
     * A response head from the upstream to the client. The encoder learns whether it answers a HEAD (framing
     * headers, no body). With {@code flushNow} false it is flushed when the upstream's read batch is done, so
     * head and body leave in one write. A write that fails closes the connection.
     */
    ChannelFuture sendHead(HttpResponse head, boolean answersHead, boolean flushNow) {
        encoder.currentRequestIsHead(answersHead);
        return sendContent(head, flushNow);
    }

    /** Response content (or a head, by {@link #sendHead}), flushed now or with the upstream's read batch. */
    ChannelFuture sendContent(HttpObject msg, boolean flushNow) {
        lastClientWrite = flushNow ? ctx.writeAndFlush(msg) : ctx.write(msg);
        return lastClientWrite.addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    /** What follows a CONNECT head is tunnel bytes: the decoder hands on what it holds, then leaves. */
    void stopParsing() {
        ctx.pipeline().remove(DECODER);
    }

    /**
     * Hands both connections to the relay; this handler and the HTTP codec leave the client's pipeline. The
     * bytes the client sent behind the request reach the upstream first and in order: those the decoder handed
     * on at the client's end of input (queued here), then those it still holds (handed on as it leaves).
     */
    ChannelPipeline becomeTunnel(HttpExchange x, Channel upstream) {
        x.handedToRelay();
        exchange = null;
        ChannelPipeline p = ctx.pipeline();
        Relay.start(ctx.channel(), upstream, x.record(), context.timeouts.idle());
        p.remove(HEAD_TIMEOUT);
        p.remove(IDLE);
        p.remove(this);
        p.remove(ENCODER);
        if (upstream.pipeline().get(ExchangeForwarder.UPSTREAM_CODEC) != null) {
            // After a 101 the upstream stops speaking HTTP too; what its decoder holds goes to the relay.
            upstream.pipeline().remove(ExchangeForwarder.UPSTREAM_CODEC);
        }
        for (Object o : queued) {
            if (o instanceof ByteBuf b) {
                x.record().addBytesUp(b.readableBytes());
                upstream.write(b, upstream.voidPromise());
            } else {
                ReferenceCountUtil.release(o);
            }
        }
        queued.clear();
        upstream.flush();
        if (p.get(DECODER) != null) {
            p.remove(DECODER);
        }
        if (clientInputEnded) {
            p.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
        return p;
    }

    // ---- endings ----------------------------------------------------------------------------

    /** The exchange moved on: if it is over by its own state, it completes. */
    void maybeComplete(HttpExchange x) {
        if (x.readyToEnd()) {
            complete(x);
        }
    }

    /** The exchange is over: log it, return or close the upstream, then the next request or a close. */
    private void complete(HttpExchange x) {
        if (!x.finish()) {
            return;
        }
        exchange = null;
        ctx.flush();
        x.record().finish();
        x.releaseHeld();
        forwarder.release(x);
        if (x.closesClient() || lastExchange() || !ctx.channel().isActive()) {
            closeAfterWrites();
            return;
        }
        headDeadline.expectHead();
        // Pipelined requests already decoded: start the next one and give it the rest of its own messages.
        while (!queued.isEmpty() && (exchange == null || (!exchange.requestDone() && !exchange.tunnel()))) {
            channelRead(ctx, queued.poll());
        }
        if (exchange == null) {
            // Still HTTP: bytes held behind a declined upgrade are the next request.
            decoder.resume();
        }
        if (exchange == null) {
            ctx.read();
        }
    }

    /** Answers with an error status and a one-line reason; with {@code close} the connection ends after it. */
    void fail(HttpExchange x, HttpResponseStatus status, String reason, boolean close) {
        x.record().refused(reason, status.code(), null);
        x.answeredByProxy(close || !x.keepAliveClient() || lastExchange());
        encoder.currentRequestIsHead(x.isHead());
        toClient(ErrorResponse.of(status, reason, x.closesClient(), x.challenges()));
        if (!x.requestDone()) {
            // The rest of a body-less request's framing (its last content) is still to come.
            ctx.read();
            return;
        }
        complete(x);
    }

    /** timeouts.handshake ran out before a whole request head arrived. */
    void headTimedOut() {
        headTimedOut("timeouts.handshake");
    }

    private void headTimedOut(String limit) {
        if (exchange != null || state != ClientState.SERVING || !ctx.channel().isActive()) {
            return;
        }
        state = ClientState.CLOSING;
        String reason = "no complete request head within " + limit;
        downstream.record(context.accessLog, "http")
                .refused(reason, 408, null).finish();
        LingeringClose.after(ctx.writeAndFlush(ErrorResponse.of(HttpResponseStatus.REQUEST_TIMEOUT, reason, true)));
    }

    private void closeAfterWrites() {
        ChannelFuture last = lastClientWrite != null ? lastClientWrite : ctx.newSucceededFuture();
        boolean gone = state == ClientState.CLOSED;
        state = gone ? ClientState.CLOSED : ClientState.CLOSING;
        if (gone || clientInputEnded) {
            last.addListener(ChannelFutureListener.CLOSE);
        } else {
            LingeringClose.after(last);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            if (exchange != null && forwarder.idle(exchange)) {
                return; // the silence was the upstream's, and the exchange answered for it
            }
            if (exchange == null && headDeadline.headInProgress()) {
                // timeouts.idle ran out before timeouts.handshake: the same 408 and log line.
                headTimedOut("timeouts.idle");
            } else {
                ctx.close();
            }
            return;
        }
        if (evt instanceof DrainEvent) {
            // Between requests: close now. In a request: answer it with Connection: close, then close.
            draining = true;
            if (exchange == null) {
                ctx.close();
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            // The client half-closed: answer what it asked, then close.
            clientInputEnded = true;
            if (exchange == null) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        state = ClientState.CLOSED;
        forwarder.clientClosed();
        HttpExchange x = exchange;
        if (x != null && !x.finished()) {
            if (!x.responseStarted()) {
                x.record().refused("client closed the connection before the response", 499, null);
            }
            x.clientGone();
            complete(x);
        }
        for (Object o : queued) {
            ReferenceCountUtil.release(o);
        }
        queued.clear();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
