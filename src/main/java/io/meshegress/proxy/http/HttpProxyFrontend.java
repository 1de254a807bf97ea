package io.meshegress.proxy.http;

import io.meshegress.observe.ConnectionRecord;
import io.meshegress.config.Durations;
import io.meshegress.proxy.DeadlineTimer;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.HandshakeDeadline;
import io.meshegress.proxy.DrainEvent;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.Relay;
import io.meshegress.proxy.RouteTable;
import io.meshegress.proxy.UpstreamOutcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One client connection of the HTTP listener. Every request is routed by its own target (CONNECT authority,
 * absolute URI, or Host), also on a kept-alive connection, because a sidecar pools requests for many hosts on
 * one connection. Requests are handled one at a time in order; pipelined ones wait in a queue. Bodies stream
 * both ways with backpressure: each side is read again only when the other side's write completed.
 */
final class HttpProxyFrontend extends ChannelInboundHandlerAdapter {
    static final String HEAD_TIMEOUT = "http-head-timeout";
    static final String DECODER = "http-decoder";
    static final String ENCODER = "http-encoder";
    static final String IDLE = "http-idle";
    static final String FRONTEND = "http-frontend";
    static final String UPSTREAM_CODEC = "upstream-codec";
    static final String UPSTREAM_HANDLER = "upstream-handler";

    private final HttpListenerContext context;
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Downstream downstream;
    private HandshakeDeadline headTimeout;
    private ProxyResponseEncoder encoder;
    private UpstreamPool pool;
    private HttpExchange exchange;
    private boolean clientInputEnded;
    private boolean draining;
    /**
     * SERVING reads and acts on requests; CLOSING has sent (or is sending) an answer that ends the connection,
     * so whatever the client sent behind it (pipelined requests, tunnel bytes after a refused CONNECT) is
     * dropped unread; CLOSED is gone.
     */
    private enum ClientState { SERVING, CLOSING, CLOSED }

    private ClientState state = ClientState.SERVING;
    /**
     * timeouts.response: when the upstream must have started answering the request it has whole, or 0 while
     * nothing is awaited. A request only moves this deadline; the one timer wakes when it could have passed
     * (as in HandshakeDeadline), so a busy keep-alive connection schedules nothing per request.
     */
    private long responseDeadline;
    private final DeadlineTimer responseTimer = new DeadlineTimer();
    /** The newest write to the client, so a close waits for everything before it. */
    private ChannelFuture lastClientWrite;

    HttpProxyFrontend(HttpListenerContext context) {
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Added before this handler (HttpListenerInitializer); looked up once rather than by name per request.
        this.headTimeout = (HandshakeDeadline) ctx.pipeline().get(HEAD_TIMEOUT);
        this.encoder = (ProxyResponseEncoder) ctx.pipeline().get(ENCODER);
        this.pool = context.pool(ctx.channel().eventLoop());
        this.downstream = Downstream.of(ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // Admitted already (ConnectionHead): ask for the first request.
        super.channelActive(ctx);
        ctx.read();
    }

    /** The HTTP listener's way of saying no at the connection head: a 403 or 503 naming the rule, then close. */
    static void refuseAtHead(HttpListenerContext context, Channel ch, int status, String reason) {
        new ConnectionRecord(context.accessLog, context.listenerName, "http", Downstream.of(ch).client())
                .refused(reason, status, null).finish();
        // From the channel, so the response passes the encoder further down the pipeline.
        LingeringClose.after(ch.writeAndFlush(errorResponse(HttpResponseStatus.valueOf(status), reason, true)));
    }

    // ---- from the client ------------------------------------------------------------------

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
        } else if (x.connect) {
            x.waiting.add(msg);
        } else if (!x.requestDone()) {
            onRequestContent(x, msg);
        } else {
            queued.add(msg);
        }
    }

    private void start(HttpRequest req) {
        headTimeout.headReceived();
        InetSocketAddress client = downstream.client();
        boolean connect = HttpMethod.CONNECT.equals(req.method());
        HttpExchange x = new HttpExchange(req, new ConnectionRecord(context.accessLog, context.listenerName,
                connect ? "connect" : "http", client));
        exchange = x;
        if (req.decoderResult().isFailure()) {
            ReferenceCountUtil.release(req);
            Throwable cause = req.decoderResult().cause();
            x.record.destination(null, 0);
            if (cause instanceof TooLongFrameException) {
                fail(x, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "request head too large (limits: request line 16 KiB, headers 64 KiB)", true);
            } else {
                fail(x, HttpResponseStatus.BAD_REQUEST, "malformed request: " + cause.getMessage(), true);
            }
            return;
        }
        Optional<MessageChecks.Problem> problem = MessageChecks.head(req);
        if (problem.isPresent()) {
            ReferenceCountUtil.release(req);
            x.record.destination(null, 0);
            fail(x, problem.get().status(), problem.get().reason(), true);
            return;
        }
        try {
            x.target = RequestTarget.parse(req.method(), req.uri(), req.headers().get(HttpHeaderNames.HOST));
        } catch (RequestTarget.Invalid e) {
            fail(x, HttpResponseStatus.BAD_REQUEST, e.getMessage(), x.hasBody);
            return;
        }
        x.record.destination(x.target.host(), x.target.port());
        if (connect) {
            connect(x);
        } else {
            forward(x);
        }
    }

    private void onRequestContent(HttpExchange x, Object msg) {
        if (!(msg instanceof HttpContent)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        HttpContent c = (HttpContent) msg;
        boolean last = c instanceof LastHttpContent;
        Optional<String> inTrailer = last ? MessageChecks.forbiddenInTrailer(((LastHttpContent) c).trailingHeaders())
                : Optional.empty();
        if (c.decoderResult().isFailure() || inTrailer.isPresent()) {
            String why = inTrailer.isPresent() ? "malformed request: " + inTrailer.get() + " in a chunked trailer"
                    : "malformed request body: " + c.decoderResult().cause().getMessage();
            c.release();
            x.requestState = HttpExchange.RequestState.RECEIVED;
            x.upstreamReusable = false;
            if (x.responseStarted()) {
                x.closeAfter = true;
                complete(x);
            } else {
                fail(x, HttpResponseStatus.BAD_REQUEST, why, true);
            }
            return;
        }
        x.record.addBytesUp(c.content().readableBytes());
        if (last) {
            x.requestState = HttpExchange.RequestState.RECEIVED;
        }
        if (x.responseDone()) {
            // An error was answered while the body was still coming: drop it.
            c.release();
            if (last) {
                maybeComplete(x);
            } else {
                ctx.read();
            }
            return;
        }
        if (x.upstream == null) {
            x.waiting.add(c);
            return;
        }
        x.upstream.writeAndFlush(c).addListener(f -> {
            if (!f.isSuccess()) {
                upstreamClosed(x, null, f.cause());
            } else if (!x.requestDone()) {
                ctx.read();
            } else {
                awaitResponse(x);
            }
        });
        if (last) {
            maybeComplete(x);
        }
    }

    // ---- CONNECT ----------------------------------------------------------------------------

    private void connect(HttpExchange x) {
        RequestTarget t = x.target;
        Destination d = new Destination(t.host(), t.port(), Destination.Kind.CONNECT,
                downstream.client());
        // The route table decides once, here, before anything of the tunnel is touched.
        RouteTable.Verdict verdict = context.connector.decide(d);
        if (!verdict.allowed()) {
            fail(x, HttpResponseStatus.FORBIDDEN, verdict.toString(), true);
            return;
        }
        // What follows the CONNECT head belongs to the tunnel: stop parsing HTTP now. The decoder hands
        // any bytes it already holds to this handler, which keeps them for the upstream.
        x.connect = true;
        x.requestState = HttpExchange.RequestState.RECEIVED;
        ctx.pipeline().remove(DECODER);
        context.connector.open(d, verdict, ctx.channel().eventLoop()).addListener(f -> {
            UpstreamOutcome outcome = (UpstreamOutcome) f.getNow();
            if (!ctx.channel().isActive()) {
                if (outcome instanceof UpstreamOutcome.Connected) {
                    ((UpstreamOutcome.Connected) outcome).channel().close();
                }
                releaseWaiting(x);
                x.record.refused("client closed the connection", 499, null).finish();
                return;
            }
            if (outcome instanceof UpstreamOutcome.Refused) {
                UpstreamOutcome.Refused r = (UpstreamOutcome.Refused) outcome;
                releaseWaiting(x);
                x.record.resolved(r.resolved());
                fail(x, HttpResponseStatus.valueOf(r.refusal().httpStatus()), r.reason(), true);
                return;
            }
            UpstreamOutcome.Connected c = (UpstreamOutcome.Connected) outcome;
            x.record.resolved(c.address()).allowed(c.rule(), 200);
            toClient(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    new HttpResponseStatus(200, "Connection established")));
            for (Object early : x.waiting) {
                if (early instanceof ByteBuf) {
                    x.record.addBytesUp(((ByteBuf) early).readableBytes());
                    c.channel().write(early);
                } else {
                    ReferenceCountUtil.release(early);
                }
            }
            x.waiting.clear();
            c.channel().flush();
            becomeTunnel(x, c.channel());
        });
    }

    /** Hands both connections to the relay; this handler and the HTTP codec leave the client's pipeline. */
    private void becomeTunnel(HttpExchange x, Channel upstream) {
        x.finished = true;
        exchange = null;
        ChannelPipeline p = ctx.pipeline();
        Relay.start(ctx.channel(), upstream, x.record, context.timeouts.idle());
        p.remove(HEAD_TIMEOUT);
        p.remove(IDLE);
        p.remove(this);
        if (p.get(DECODER) != null) {
            p.remove(DECODER);
        }
        p.remove(ENCODER);
        if (clientInputEnded) {
            p.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    // ---- plain HTTP ---------------------------------------------------------------------------

    private void forward(HttpExchange x) {
        RequestTarget t = x.target;
        HttpRequest req = x.request;
        x.destination = new Destination(t.host(), t.port(), Destination.Kind.HTTP,
                downstream.client());
        // Decided here, once, whether a pooled connection serves it or a new one is opened.
        x.verdict = context.connector.decide(x.destination);
        if (!x.verdict.allowed()) {
            fail(x, HttpResponseStatus.FORBIDDEN, x.verdict.toString(), x.hasBody);
            return;
        }
        x.rule = x.verdict.decision().rule();
        x.upgrade = ForwardedRequest.rewrite(req, t);
        if (context.listener.xForwardedFor()) {
            req.headers().add("x-forwarded-for",
                    downstream.client().getAddress().getHostAddress());
        }
        x.poolKey = t.host() + ":" + t.port();
        Channel pooled = pool.acquire(x.poolKey);
        if (pooled != null) {
            x.reused = true;
            attach(x, pooled);
        } else {
            open(x);
        }
    }

    private void open(HttpExchange x) {
        context.connector.open(x.destination, x.verdict, ctx.channel().eventLoop()).addListener(f -> {
            UpstreamOutcome outcome = (UpstreamOutcome) f.getNow();
            if (x.finished || !ctx.channel().isActive()) {
                if (outcome instanceof UpstreamOutcome.Connected) {
                    ((UpstreamOutcome.Connected) outcome).channel().close();
                }
                return;
            }
            if (outcome instanceof UpstreamOutcome.Refused) {
                UpstreamOutcome.Refused r = (UpstreamOutcome.Refused) outcome;
                x.record.resolved(r.resolved());
                fail(x, HttpResponseStatus.valueOf(r.refusal().httpStatus()), r.reason(), x.hasBody && !x.requestDone());
                return;
            }
            Channel ch = ((UpstreamOutcome.Connected) outcome).channel();
            ch.pipeline()
                    .addLast(UPSTREAM_CODEC, new HttpClientCodec(new HttpDecoderConfig()
                            .setMaxInitialLineLength(ProxyRequestDecoder.MAX_INITIAL_LINE)
                            .setMaxHeaderSize(ProxyRequestDecoder.MAX_HEADER_SIZE)
                            .setMaxChunkSize(ProxyRequestDecoder.MAX_CHUNK), false, false))
                    .addLast(UPSTREAM_HANDLER, new UpstreamHandler(pool, x.poolKey));
            attach(x, ch);
        });
    }

    /** Sends the request head, and any body that arrived meanwhile, on an upstream connection. */
    private void attach(HttpExchange x, Channel upstream) {
        x.upstream = upstream;
        ((UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER)).bind(this, x);
        x.record.resolved((InetSocketAddress) upstream.remoteAddress()).allowed(x.rule, 0);
        ChannelFuture written = upstream.write(x.request);
        for (Object body : x.waiting) {
            written = upstream.write(body);
        }
        x.waiting.clear();
        upstream.flush();
        written.addListener(f -> {
            if (!f.isSuccess()) {
                upstreamClosed(x, upstream, f.cause());
            } else if (!x.requestDone()) {
                ctx.read();
            } else {
                awaitResponse(x);
            }
        });
        upstream.read();
    }

    /** The whole request reached the upstream: from now on it has timeouts.response to start answering. */
    private void awaitResponse(HttpExchange x) {
        if (x != exchange || x.finished || x.responseStarted()) {
            return;
        }
        long timeout = context.timeouts.response().toNanos();
        responseDeadline = Math.max(1, System.nanoTime() + timeout);
        if (!responseTimer.armed()) {
            responseTimer.arm(ctx.executor(), timeout, this::checkResponseDeadline);
        }
    }

    private void checkResponseDeadline() {
        HttpExchange x = exchange;
        if (responseDeadline == 0 || x == null || x.finished || x.responseStarted()) {
            return; // the next request arms it again
        }
        long left = responseDeadline - System.nanoTime();
        if (left > 0) {
            responseTimer.arm(ctx.executor(), left, this::checkResponseDeadline);
        } else if (!x.interim()) {
            responseDeadline = 0;
            upstreamSilent(x, "timeouts.response (" + Durations.format(context.timeouts.response()) + ")");
        }
    }

    /** The upstream has the request and has not answered in time: 504, and the log names the upstream. */
    private void upstreamSilent(HttpExchange x, String limit) {
        String where = x.upstream != null && x.upstream.remoteAddress() != null
                ? ((InetSocketAddress) x.upstream.remoteAddress()).getAddress().getHostAddress() + ":"
                + ((InetSocketAddress) x.upstream.remoteAddress()).getPort() : "the upstream";
        x.upstreamReusable = false;
        if (x.upstream != null) {
            x.upstream.close();
        }
        fail(x, HttpResponseStatus.GATEWAY_TIMEOUT, "upstream " + where + " sent no response within " + limit,
                !x.requestDone());
    }

    // ---- from the upstream ----------------------------------------------------------------

    void onResponse(HttpExchange x, HttpObject msg) {
        if (x != exchange || x.finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse) {
            onResponseHead(x, (HttpResponse) msg);
        }
        if (msg instanceof HttpContent) {
            onResponseContent(x, (HttpContent) msg);
        }
    }

    private void onResponseHead(HttpExchange x, HttpResponse r) {
        responseDeadline = 0;
        if (r.decoderResult().isFailure()) {
            upstreamBroken(x, "malformed response from upstream: " + r.decoderResult().cause().getMessage());
            return;
        }
        int code = r.status().code();
        ResponseFraming.Plan plan = ResponseFraming.plan(
                new ResponseFraming.Request(x.clientHttp10, x.keepAliveClient, x.isHead, x.upgrade),
                new ResponseFraming.Response(code, HttpUtil.isKeepAlive(r), HttpUtil.isContentLengthSet(r),
                        HttpUtil.isTransferEncodingChunked(r)),
                x.closeAfter || clientInputEnded || draining);
        if (plan.kind() == ResponseFraming.Kind.SWITCH) {
            switchProtocols(x, r);
            return;
        }
        if (plan.kind() == ResponseFraming.Kind.INTERIM) {
            x.responseState = HttpExchange.ResponseState.INTERIM;
            HeaderHygiene.strip(r.headers(), false);
            encoder.currentRequestIsHead(false);
            toClient(r);
            return;
        }
        x.responseState = HttpExchange.ResponseState.STREAMING;
        x.record.allowed(x.rule, code);
        x.upstreamReusable = plan.reuseUpstream();
        x.closeAfter = plan.closeClient();
        HeaderHygiene.strip(r.headers(), false);
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (plan.body() == ResponseFraming.Body.CHUNKED_BY_PROXY) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
        switch (plan.header()) {
            case CLOSE -> r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            case KEEP_ALIVE -> r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            default -> { }
        }
        encoder.currentRequestIsHead(x.isHead);
        // Not flushed yet: the body that came in the same read goes out in the same write (see upstreamReadComplete).
        Channel upstream = x.upstream;
        toClientLater(r).addListener(f -> {
            if (!f.isSuccess()) {
                clientGone();
            } else if (!x.responseDone()) {
                // The head may have come alone (an origin using sendfile sends it apart): ask for the body.
                upstream.read();
            }
        });
    }

    private void onResponseContent(HttpExchange x, HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            upstreamBroken(x, "upstream response broke off: " + c.decoderResult().cause().getMessage());
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (x.interim()) {
            if (last) {
                x.responseState = HttpExchange.ResponseState.AWAITED;
            }
            toClient(c);
            x.upstream.read();
            return;
        }
        x.record.addBytesDown(c.content().readableBytes());
        if (last) {
            x.responseState = HttpExchange.ResponseState.DONE;
            if (!x.requestDone()) {
                // The origin answered before the whole body arrived: neither connection can be reused.
                x.upstreamReusable = false;
                x.closeAfter = true;
            }
        }
        Channel upstream = x.upstream;
        toClientLater(c).addListener(f -> {
            if (!f.isSuccess()) {
                clientGone();
            } else if (!last) {
                upstream.read();
            }
        });
        if (last) {
            maybeComplete(x);
        }
    }

    /**
     * An upstream connection ended or failed while bound to {@code x}. Events from a connection that is no
     * longer the exchange's (a stale pooled one being replaced) are old news.
     */
    void upstreamClosed(HttpExchange x, Channel from, Throwable cause) {
        if (x != exchange || x.finished || x.responseDone() || (from != null && from != x.upstream)) {
            return;
        }
        x.upstreamReusable = false;
        if (!x.responseStarted() && x.reused && !x.hasBody && !x.retried) {
            // A kept-alive connection the origin closed just as we reused it: one fresh try.
            x.retried = true;
            x.reused = false;
            x.upstream = null;
            open(x);
            return;
        }
        String where = x.upstream != null && x.upstream.remoteAddress() != null
                ? " " + ((InetSocketAddress) x.upstream.remoteAddress()).getAddress().getHostAddress() : "";
        upstreamBroken(x, "upstream" + where + " closed the connection"
                + (x.responseStarted() ? " in the middle of the response" : " before responding"));
    }

    private void upstreamBroken(HttpExchange x, String reason) {
        x.upstreamReusable = false;
        if (x.upstream != null) {
            x.upstream.close();
        }
        if (!x.responseStarted()) {
            fail(x, HttpResponseStatus.BAD_GATEWAY, reason, !x.requestDone());
        } else {
            // Headers are out: the only honest signal left is to end the connection early.
            x.record.refused(reason, 502, null);
            x.responseState = HttpExchange.ResponseState.DONE;
            x.closeAfter = true;
            complete(x);
        }
    }

    private void switchProtocols(HttpExchange x, HttpResponse r) {
        x.responseState = HttpExchange.ResponseState.DONE;
        x.record.allowed(x.rule, 101);
        HeaderHygiene.strip(r.headers(), true);
        encoder.currentRequestIsHead(false);
        toClient(r);
        Channel upstream = x.upstream;
        ((UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER)).passthrough();
        becomeTunnel(x, upstream);
        upstream.pipeline().remove(UPSTREAM_CODEC);
    }

    // ---- endings ----------------------------------------------------------------------------

    private void maybeComplete(HttpExchange x) {
        if (x.responseDone() && (x.requestDone() || x.closeAfter)) {
            complete(x);
        }
    }

    /** The exchange is over: log it, return or close the upstream, then the next request or a close. */
    private void complete(HttpExchange x) {
        if (x.finished) {
            return;
        }
        x.finished = true;
        exchange = null;
        responseDeadline = 0;
        ctx.flush();
        x.record.finish();
        releaseWaiting(x);
        Channel upstream = x.upstream;
        if (upstream != null) {
            if (x.upstreamReusable && x.requestDone() && upstream.isActive()) {
                ((UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER)).unbind();
                pool.release(x.poolKey, upstream);
            } else {
                upstream.close();
            }
        }
        if (x.closeAfter || clientInputEnded || draining || !ctx.channel().isActive()) {
            closeAfterWrites();
            return;
        }
        headTimeout.expectHead();
        // Pipelined requests already decoded: start the next one and give it the rest of its own messages.
        while (!queued.isEmpty() && (exchange == null || (!exchange.requestDone() && !exchange.connect))) {
            channelRead(ctx, queued.poll());
        }
        if (exchange == null) {
            ctx.read();
        }
    }

    /** Answers with an error status and a one-line reason; with {@code close} the connection ends after it. */
    private void fail(HttpExchange x, HttpResponseStatus status, String reason, boolean close) {
        x.record.refused(reason, status.code(), null);
        x.responseState = HttpExchange.ResponseState.DONE;
        if (close || !x.keepAliveClient || clientInputEnded || draining) {
            x.closeAfter = true;
        }
        encoder.currentRequestIsHead(x.isHead);
        toClient(errorResponse(status, reason, x.closeAfter));
        if (x.closeAfter) {
            x.requestState = HttpExchange.RequestState.RECEIVED;
        }
        if (!x.requestDone()) {
            // The rest of a body-less request's framing (its last content) is still to come.
            ctx.read();
            return;
        }
        complete(x);
    }

    static FullHttpResponse errorResponse(HttpResponseStatus status, String reason, boolean close) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer("mesh-egress: " + reason.replace('\n', ' ') + "\n", StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.VIA, HeaderHygiene.VIA);
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
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
        new ConnectionRecord(context.accessLog, context.listenerName, "http",
                downstream.client())
                .refused("no complete request head within " + limit, 408, null).finish();
        LingeringClose.after(ctx.writeAndFlush(errorResponse(HttpResponseStatus.REQUEST_TIMEOUT,
                "no complete request head within " + limit, true)));
    }

    private ChannelFuture toClient(Object msg) {
        lastClientWrite = ctx.writeAndFlush(msg);
        return lastClientWrite;
    }

    private ChannelFuture toClientLater(Object msg) {
        lastClientWrite = ctx.write(msg);
        return lastClientWrite;
    }

    /** The upstream's read batch is done: send what it produced in one go. */
    void upstreamReadComplete() {
        ctx.flush();
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

    private void releaseWaiting(HttpExchange x) {
        for (Object o : x.waiting) {
            ReferenceCountUtil.release(o);
        }
        x.waiting.clear();
    }

    private void clientGone() {
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            HttpExchange x = exchange;
            if (x != null && x.upstream != null && x.requestDone() && !x.responseStarted() && !x.finished) {
                // Silence while waiting for the upstream is the upstream's, not the client's (a 504, not a 499).
                upstreamSilent(x, "timeouts.idle (" + Durations.format(context.timeouts.idle()) + ")");
            } else if (x != null && x.upstream != null && x.responseStarted() && !x.responseDone() && !x.finished) {
                // The same in the middle of a response: the log names the upstream that stalled.
                upstreamBroken(x, "upstream stalled in the middle of the response for timeouts.idle ("
                        + Durations.format(context.timeouts.idle()) + ")");
            } else if (x == null && headTimeout.headInProgress()) {
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
        responseTimer.cancel();
        HttpExchange x = exchange;
        if (x != null && !x.finished) {
            if (!x.responseStarted()) {
                x.record.refused("client closed the connection before the response", 499, null);
            }
            x.closeAfter = true;
            x.upstreamReusable = false;
            x.responseState = HttpExchange.ResponseState.DONE;
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
