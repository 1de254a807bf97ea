package io.meshegress.proxy.http;

import io.meshegress.config.Durations;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.Route;
import io.meshegress.proxy.UpstreamOutcome;
import io.meshegress.proxy.timer.Deadline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * The upstream side of a client connection's plain-HTTP exchanges: the route table's verdict, a pooled or new
 * upstream connection, the request streamed up, the response streamed back with the framing {@link
 * ResponseFraming} plans, and the upstream returned to the pool or closed. Bodies stream both ways with
 * backpressure: each side is read again only when the other side's write completed.
 */
final class ExchangeForwarder {
    static final String UPSTREAM_CODEC = "upstream-codec";
    static final String UPSTREAM_HANDLER = "upstream-handler";

    private final ClientConnection conn;
    private final HttpListenerContext context;
    private final UpstreamPool pool;
    private final Downstream downstream;
    private final EventLoop loop;
    /** timeouts.response: once the upstream has a whole request, it must start answering in time. */
    private final Deadline responseDeadline = new Deadline(this::responseOverdue);
    /** The exchange {@link #responseDeadline} runs for. */
    private HttpExchange awaitingResponse;

    /** @param loop the client connection's event loop, where its upstreams are opened too */
    ExchangeForwarder(ClientConnection conn, HttpListenerContext context, UpstreamPool pool, Downstream downstream,
                      EventLoop loop) {
        this.conn = conn;
        this.context = context;
        this.pool = pool;
        this.downstream = downstream;
        this.loop = loop;
    }

    void forward(HttpExchange x) {
        RequestTarget t = x.target();
        // Decided here, once, whether a pooled connection serves it or a new one is opened.
        Route route = context.connector.route(new Destination(t.host(), t.port(), Destination.Kind.HTTP,
                x.downstream()));
        if (route instanceof Route.Refused r) {
            conn.fail(x, HttpResponseStatus.FORBIDDEN, r.reason(), x.hasBody());
            return;
        }
        Route.Allowed allowed = (Route.Allowed) route;
        x.record().wouldRefuse(allowed.wouldRefuse());
        HttpRequest request = x.request();
        x.routed(allowed, ForwardedRequest.rewrite(request, t));
        context.meshHeaders.stripFromRequest(request.headers());
        if (context.listener.xForwardedFor()) {
            request.headers().add("x-forwarded-for", downstream.client().getAddress().getHostAddress());
        }
        Channel pooled = pool.acquire(x.poolKey());
        if (pooled != null) {
            attach(x, pooled, true);
        } else {
            open(x);
        }
    }

    void onRequestContent(HttpExchange x, Object msg) {
        if (!(msg instanceof HttpContent c)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        boolean last = c instanceof LastHttpContent;
        Optional<String> inTrailer = last ? MessageChecks.forbiddenInTrailer(((LastHttpContent) c).trailingHeaders())
                : Optional.empty();
        if (c.decoderResult().isFailure() || inTrailer.isPresent()) {
            String why = inTrailer.isPresent() ? "malformed request: " + inTrailer.get() + " in a chunked trailer"
                    : "malformed request body: " + c.decoderResult().cause().getMessage();
            c.release();
            x.requestBroke();
            if (x.responseStarted()) {
                conn.maybeComplete(x);
            } else {
                conn.fail(x, HttpResponseStatus.BAD_REQUEST, why, true);
            }
            return;
        }
        x.record().addBytesUp(c.content().readableBytes());
        if (last) {
            x.requestEnded();
        }
        if (x.responseDone()) {
            // An error was answered while the body was still coming: drop it.
            c.release();
            if (last) {
                conn.maybeComplete(x);
            } else {
                conn.read();
            }
            return;
        }
        Channel upstream = x.upstream();
        if (upstream == null) {
            x.hold(c);
            return;
        }
        upstream.writeAndFlush(c).addListener(f -> requestWritten(x, upstream, f.isSuccess() ? null : f.cause()));
        if (last) {
            conn.maybeComplete(x);
        }
    }

    private void open(HttpExchange x) {
        x.route().open(loop).addListener(f -> {
            UpstreamOutcome outcome = (UpstreamOutcome) f.getNow();
            if (x.finished() || !conn.active()) {
                if (outcome instanceof UpstreamOutcome.Connected c) {
                    c.channel().close();
                }
                return;
            }
            if (outcome instanceof UpstreamOutcome.Refused r) {
                x.record().resolved(r.resolved());
                conn.fail(x, HttpResponseStatus.valueOf(r.refusal().httpStatus()), r.reason(),
                        x.hasBody() && !x.requestDone());
                return;
            }
            Channel ch = ((UpstreamOutcome.Connected) outcome).channel();
            ch.pipeline()
                    .addLast(UPSTREAM_CODEC, new HttpClientCodec(new HttpDecoderConfig()
                            .setMaxInitialLineLength(ProxyRequestDecoder.MAX_INITIAL_LINE)
                            .setMaxHeaderSize(ProxyRequestDecoder.MAX_HEADER_SIZE)
                            .setMaxChunkSize(ProxyRequestDecoder.MAX_CHUNK), false, false))
                    .addLast(UPSTREAM_HANDLER, new UpstreamHandler(pool, x.poolKey()));
            attach(x, ch, false);
        });
    }

    /** Sends the request head, and any body that arrived meanwhile, on an upstream connection. */
    private void attach(HttpExchange x, Channel upstream, boolean pooled) {
        x.upstreamAttached(upstream, pooled);
        upstreamHandler(upstream).bind(this, x);
        x.record().resolved((InetSocketAddress) upstream.remoteAddress()).allowed(x.route().rule(), 0);
        ChannelFuture written = upstream.write(x.request());
        for (Object body : x.takeHeld()) {
            written = upstream.write(body);
        }
        upstream.flush();
        written.addListener(f -> requestWritten(x, upstream, f.isSuccess() ? null : f.cause()));
        upstream.read();
    }

    /** A write up completed: read more of the body, or, with all of it up, start awaiting the answer. */
    private void requestWritten(HttpExchange x, Channel upstream, Throwable failure) {
        if (failure != null) {
            upstreamClosed(x, upstream, failure);
        } else if (!x.requestDone()) {
            conn.read();
        } else if (!x.finished() && !x.responseStarted()) {
            awaitingResponse = x;
            responseDeadline.start(loop, context.timeouts.response().toNanos());
        }
    }

    private void responseOverdue() {
        HttpExchange x = awaitingResponse;
        if (x != null && !x.finished() && !x.responseStarted() && !x.interim()) {
            upstreamSilent(x, "timeouts.response (" + Durations.format(context.timeouts.response()) + ")");
        }
    }

    /** The upstream has the request and has not answered in time: 504, and the log names the upstream. */
    private void upstreamSilent(HttpExchange x, String limit) {
        Channel upstream = x.upstream();
        String where = upstream != null && upstream.remoteAddress() != null
                ? ((InetSocketAddress) upstream.remoteAddress()).getAddress().getHostAddress() + ":"
                + ((InetSocketAddress) upstream.remoteAddress()).getPort() : "the upstream";
        x.upstreamUnusable();
        if (upstream != null) {
            upstream.close();
        }
        conn.fail(x, HttpResponseStatus.GATEWAY_TIMEOUT, "upstream " + where + " sent no response within " + limit,
                !x.requestDone());
    }

    /**
     * timeouts.idle passed on the client connection during {@code x}. Silence while waiting for the upstream is
     * the upstream's, not the client's (a 504, not a 499); in the middle of a response the log names the
     * upstream that stalled. False when the silence is the client's.
     */
    boolean idle(HttpExchange x) {
        if (x.upstream() == null || x.finished()) {
            return false;
        }
        String idle = "timeouts.idle (" + Durations.format(context.timeouts.idle()) + ")";
        if (x.requestDone() && !x.responseStarted()) {
            upstreamSilent(x, idle);
            return true;
        }
        if (x.responseStarted() && !x.responseDone()) {
            upstreamBroken(x, "upstream stalled in the middle of the response for " + idle);
            return true;
        }
        return false;
    }

    // ---- from the upstream ----------------------------------------------------------------

    void onResponse(HttpExchange x, HttpObject msg) {
        if (x.finished()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            onResponseHead(x, r);
        }
        if (msg instanceof HttpContent c) {
            onResponseContent(x, c);
        }
    }

    private void onResponseHead(HttpExchange x, HttpResponse r) {
        responseDeadline.clear();
        if (r.decoderResult().isFailure()) {
            upstreamBroken(x, "malformed response from upstream: " + r.decoderResult().cause().getMessage());
            return;
        }
        int code = r.status().code();
        ResponseFraming.Plan plan = ResponseFraming.plan(
                new ResponseFraming.Request(x.clientHttp10(), x.keepAliveClient(), x.isHead(), x.upgrade()),
                new ResponseFraming.Response(code, HttpUtil.isKeepAlive(r), HttpUtil.isContentLengthSet(r),
                        HttpUtil.isTransferEncodingChunked(r)),
                x.closesClient() || conn.lastExchange());
        if (plan.kind() == ResponseFraming.Kind.SWITCH) {
            switchProtocols(x, r);
            return;
        }
        if (plan.kind() == ResponseFraming.Kind.INTERIM) {
            x.interimStarted();
            HeaderHygiene.strip(r.headers(), false);
            MeshHeaderFilter.stripFromResponse(r.headers());
            conn.sendHead(r, false, true);
            return;
        }
        x.finalHeadSent(plan);
        x.record().allowed(x.route().rule(), code);
        HeaderHygiene.strip(r.headers(), false);
        MeshHeaderFilter.stripFromResponse(r.headers());
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (plan.body() == ResponseFraming.Body.CHUNKED_BY_PROXY) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
        switch (plan.header()) {
            case CLOSE -> r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            case KEEP_ALIVE -> r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            default -> { }
        }
        // Not flushed yet: the body that came in the same read goes out in the same write (upstreamReadComplete).
        Channel upstream = x.upstream();
        conn.sendHead(r, x.isHead(), false).addListener(f -> {
            if (f.isSuccess() && !x.responseDone()) {
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
        Channel upstream = x.upstream();
        if (x.interim()) {
            if (last) {
                x.interimEnded();
            }
            conn.sendContent(c, true);
            upstream.read();
            return;
        }
        x.record().addBytesDown(c.content().readableBytes());
        if (last) {
            x.responseEnded();
        }
        conn.sendContent(c, false).addListener(f -> {
            if (f.isSuccess() && !last) {
                upstream.read();
            }
        });
        if (last) {
            conn.maybeComplete(x);
        }
    }

    /** The upstream's read batch is done: send what it produced in one go. */
    void upstreamReadComplete() {
        conn.flush();
    }

    /**
     * An upstream connection ended or failed while bound to {@code x}. Events from a connection that is no
     * longer the exchange's (a stale pooled one being replaced) are old news.
     */
    void upstreamClosed(HttpExchange x, Channel from, Throwable cause) {
        if (x.finished() || x.responseDone() || (from != null && from != x.upstream())) {
            return;
        }
        Channel upstream = x.upstream();
        if (x.retryOnFreshUpstream()) {
            // A kept-alive connection the origin closed just as we reused it: one fresh try.
            open(x);
            return;
        }
        String where = upstream != null && upstream.remoteAddress() != null
                ? " " + ((InetSocketAddress) upstream.remoteAddress()).getAddress().getHostAddress() : "";
        upstreamBroken(x, "upstream" + where + " closed the connection"
                + (x.responseStarted() ? " in the middle of the response" : " before responding"));
    }

    private void upstreamBroken(HttpExchange x, String reason) {
        x.upstreamUnusable();
        if (x.upstream() != null) {
            x.upstream().close();
        }
        if (!x.responseStarted()) {
            conn.fail(x, HttpResponseStatus.BAD_GATEWAY, reason, !x.requestDone());
        } else {
            x.record().refused(reason, 502, null);
            x.responseBroke();
            conn.maybeComplete(x);
        }
    }

    private void switchProtocols(HttpExchange x, HttpResponse r) {
        x.protocolsSwitched();
        x.record().allowed(x.route().rule(), 101);
        HeaderHygiene.strip(r.headers(), true);
        MeshHeaderFilter.stripFromResponse(r.headers());
        conn.sendHead(r, false, true);
        Channel upstream = x.upstream();
        upstreamHandler(upstream).passthrough();
        conn.becomeTunnel(x, upstream);
    }

    /** The exchange is over: its upstream goes back to the pool if it can serve another request, else closes. */
    void release(HttpExchange x) {
        responseDeadline.clear();
        awaitingResponse = null;
        Channel upstream = x.upstream();
        if (upstream == null) {
            return;
        }
        if (x.upstreamReusable() && upstream.isActive()) {
            upstreamHandler(upstream).unbind();
            pool.release(x.poolKey(), upstream);
        } else {
            upstream.close();
        }
    }

    void clientClosed() {
        responseDeadline.cancel();
    }

    private static UpstreamHandler upstreamHandler(Channel upstream) {
        return (UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER);
    }
}
