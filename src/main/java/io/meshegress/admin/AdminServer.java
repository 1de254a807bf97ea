package io.meshegress.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.policy.Cidr;
import io.meshegress.proxy.ProxyRuntime;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The admin listener's pipeline: {@code GET /} the status page ({@link StatusPage}), {@code GET /refusals} the
 * last refusals and {@code GET /explain?host=&port=&client=} the route table's answer (both JSON),
 * {@code GET /healthz} answers while the process serves, {@code GET /readyz} 200 while ready and 503 while
 * starting or draining, {@code GET /metrics} the Prometheus text format. Probes and metrics answer every peer;
 * the page, /refusals and /explain only {@code admin.pages.clients} ({@link PageAccess}), others get a 403.
 *
 * <p>Every connection is bounded: the client's FIN closes it once the answers are written (the listeners share
 * half-closure, which a prober that closes first would otherwise leave in CLOSE-WAIT for ever), one idle for
 * {@code admin.idleTimeout} is closed, and at most {@code admin.maxConnections} are open at once; more are
 * closed at accept. Kubelet probes and scrapes hold one or two each.
 */
public final class AdminServer extends ChannelInitializer<SocketChannel> {
    private final Supplier<Boolean> ready;
    private final StatusPage.Sources status;
    private final ProxyMetrics metrics;
    private final long idleMillis;
    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();

    public AdminServer(Supplier<Boolean> ready, ProxyMetrics metrics, Duration idleTimeout, int maxConnections,
                       StatusPage.Sources status) {
        this.status = status;
        this.ready = ready;
        this.metrics = metrics;
        this.idleMillis = idleTimeout.toMillis();
        this.maxConnections = maxConnections;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            ch.close();
            return;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        ch.config().setAutoRead(true);
        ch.pipeline()
                .addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
                .addLast(new HttpServerCodec(4096, 8192, 8192))
                .addLast(AdminResponseHeaders.INSTANCE)
                .addLast(new HttpObjectAggregator(8192))
                .addLast(new Endpoints());
    }


    private static final String JSON = "application/json; charset=utf-8";

    private final class Endpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response = answer(ctx, request);
            // After a request the decoder could not read, it reads nothing more on this connection.
            boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            HttpUtil.setKeepAlive(response, keepAlive);
            var f = ctx.writeAndFlush(response);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        /** The answer to one request. No answer repeats the request's path: an unknown one is just "not found". */
        private FullHttpResponse answer(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                return text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            }
            QueryStringDecoder uri = new QueryStringDecoder(request.uri(), StandardCharsets.UTF_8, true, 32);
            AdminRoute route = AdminRoute.at(uri.path()).orElse(null);
            if (route == null) {
                return text(HttpResponseStatus.NOT_FOUND, "not found\n");
            }
            if (PageAccess.decide(route, ctx.channel().remoteAddress(), pageClients()) instanceof PageAccess.Forbidden) {
                return text(HttpResponseStatus.FORBIDDEN, "forbidden: this page answers loopback clients and "
                        + "admin.pages.clients only\n");
            }
            if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                return text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n");
            }
            return switch (route) {
                case STATUS_PAGE -> statusPage(uri);
                case REFUSALS -> body(HttpResponseStatus.OK, RefusalFilter.json(RefusalFilter.apply(
                        status.board().refusals(), param(uri, "filter"))), JSON);
                case EXPLAIN -> {
                    Explain.Answer answer = Explain.ask(status.runtime().get(), param(uri, "host"),
                            param(uri, "port"), who(uri));
                    yield body(answer.error() == null ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST,
                            Explain.json(answer), JSON);
                }
                case HEALTHZ -> text(HttpResponseStatus.OK, "ok\n");
                case READYZ -> ready.get() ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready (starting, draining or waiting for the first list of pods)\n");
                case METRICS -> body(HttpResponseStatus.OK, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
            };
        }

        private FullHttpResponse statusPage(QueryStringDecoder uri) {
            StatusPage.Query query = new StatusPage.Query(param(uri, "filter"), param(uri, "host"),
                    param(uri, "port"), who(uri));
            Explain.Answer answer = query.host() == null ? null
                    : Explain.ask(status.runtime().get(), query.host(), query.port(), query.who());
            FullHttpResponse response = body(HttpResponseStatus.OK,
                    StatusPage.html(status, metrics, ready.get(), query, answer), "text/html; charset=utf-8");
            // No script, no style or image from anywhere else, no framing: the page needs none of them.
            response.headers().set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                    + "form-action 'self'; frame-ancestors 'none'");
            return response;
        }

        /** The current config's page clients (a reload changes them without rebinding the listener). */
        private List<Cidr> pageClients() {
            ProxyRuntime rt = status.runtime().get();
            return rt == null || rt.config().admin() == null ? EgressConfig.Admin.LOOPBACK
                    : rt.config().admin().pageClients();
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body) {
            return body(status, body, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8");
        }

        private static FullHttpResponse body(HttpResponseStatus status, String body, String contentType) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            return r;
        }

        /** Whom an explanation is for: {@code client}, {@code workload}, {@code namespaceLabels} and {@code user}. */
        private static Explain.Who who(QueryStringDecoder uri) {
            return new Explain.Who(param(uri, "client"), param(uri, "workload"), param(uri, "namespaceLabels"),
                    param(uri, "user"));
        }

        /** The first value of a query parameter, or null. */
        private static String param(QueryStringDecoder uri, String name) {
            List<String> values = uri.parameters().get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                // The client is done asking: close once everything answered so far is written.
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
