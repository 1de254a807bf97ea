package io.meshegress.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-HTTP origin for tests. {@code GET /hello} names this origin, the Host it got and the path;
 * {@code /headers} echoes the request headers one per line; {@code /bytes?n=N&seed=S} streams
 * {@link DeterministicBytes} (with {@code &close=1} as a body ended by closing, no length);
 * {@code POST /sha256} answers the SHA-256 and length of the body; {@code /hop} answers with hop-by-hop
 * headers of its own; {@code /split} sends its head and its body in separate segments; {@code /ws} is a
 * WebSocket echo. It counts the connections it accepted.
 */
public final class HttpOrigin implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel channel;
    private final String name;
    private final AtomicInteger connections = new AtomicInteger();

    public HttpOrigin(String host, int port) throws InterruptedException {
        this(host, port, null);
    }

    /**
     * With {@code ssl}, the same endpoints over TLS (what {@link TlsOrigin} serves); {@code /hello} then names
     * the SNI it received instead of the Host.
     */
    HttpOrigin(String host, int port, SslContext ssl) throws InterruptedException {
        this.name = host + ":" + port;
        this.channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        if (ssl != null) {
                            ch.pipeline().addLast(new SniHandler(hostname -> ssl)).addLast(new SniRecorder());
                        }
                        ch.pipeline().addLast(new HttpServerCodec())
                                .addLast(new HttpServerExpectContinueHandler())
                                .addLast(new ChunkedWriteHandler())
                                .addLast(new Endpoints());
                    }
                }).bind(new InetSocketAddress(host, port)).sync().channel();
    }

    public int connections() {
        return connections.get();
    }

    private static final AttributeKey<String> SNI = AttributeKey.valueOf("origin-sni");

    /** Keeps the server_name the TLS handshake carried, for /hello. */
    private static final class SniRecorder extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SniCompletionEvent) {
                ctx.channel().attr(SNI).set(((SniCompletionEvent) evt).hostname());
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private final class Endpoints extends ChannelInboundHandlerAdapter {
        private MessageDigest upload;
        private long uploaded;
        private boolean keepAlive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest && ((HttpRequest) msg).uri().startsWith("/ws")) {
                // Hand the handshake to Netty's WebSocket server, which answers 101 and echoes text frames.
                ctx.pipeline().addLast(new HttpObjectAggregator(65536))
                        .addLast(new WebSocketServerProtocolHandler("/ws"))
                        .addLast(new Echo());
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(msg);
                return;
            }
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest req = (HttpRequest) msg;
                    keepAlive = HttpUtil.isKeepAlive(req);
                    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
                    Map<String, List<String>> q = uri.parameters();
                    switch (uri.path()) {
                        case "/hello":
                            String sni = ctx.channel().attr(SNI).get();
                            respond(ctx, HttpResponseStatus.OK, sni != null ? "origin=" + name + " sni=" + sni + "\n"
                                    : "origin=" + name + " host=" + req.headers().get(HttpHeaderNames.HOST)
                                            + " path=" + req.uri() + "\n");
                            break;
                        case "/headers": {
                            StringBuilder sb = new StringBuilder();
                            req.headers().forEach(h -> sb.append(h.getKey().toLowerCase()).append(": ").append(h.getValue()).append('\n'));
                            respond(ctx, HttpResponseStatus.OK, sb.toString());
                            break;
                        }
                        case "/hop": {
                            FullHttpResponse r = full(HttpResponseStatus.OK, "hop\n");
                            r.headers().set("Keep-Alive", "timeout=5");
                            r.headers().set("X-Resp-Secret", "1");
                            r.headers().set("X-Resp-Kept", "1");
                            HttpUtil.setKeepAlive(r, keepAlive);
                            // Names a header as hop-by-hop: the proxy must not pass it on.
                            r.headers().add("Connection", "x-resp-secret");
                            ctx.writeAndFlush(r);
                            break;
                        }
                        case "/bytes": {
                            long n = Long.parseLong(q.get("n").get(0));
                            long seed = Long.parseLong(q.getOrDefault("seed", List.of("1")).get(0));
                            boolean closeDelimited = q.containsKey("close");
                            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                            if (closeDelimited) {
                                head.headers().set(HttpHeaderNames.CONNECTION, "close");
                                keepAlive = false;
                            } else {
                                HttpUtil.setContentLength(head, n);
                            }
                            ctx.write(head);
                            var f = ctx.writeAndFlush(new HttpChunkedInput(new DeterministicChunks(seed, n)));
                            if (!keepAlive) {
                                f.addListener(ChannelFutureListener.CLOSE);
                            }
                            break;
                        }
                        case "/split": {
                            // The head now, the body a moment later in its own segment (as sendfile does).
                            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                            HttpUtil.setContentLength(head, 6);
                            ctx.writeAndFlush(head);
                            ctx.executor().schedule(() -> ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultLastHttpContent(
                                    Unpooled.copiedBuffer("split\n", StandardCharsets.US_ASCII))), 50, TimeUnit.MILLISECONDS);
                            break;
                        }
                        case "/sha256":
                            upload = DeterministicBytes.sha256();
                            uploaded = 0;
                            break;
                        default:
                            respond(ctx, HttpResponseStatus.NOT_FOUND, "not found\n");
                    }
                }
                if (msg instanceof HttpContent && upload != null) {
                    ByteBuf content = ((HttpContent) msg).content();
                    uploaded += content.readableBytes();
                    upload.update(content.nioBuffer());
                    if (msg instanceof LastHttpContent) {
                        String hex = HexFormat.of().formatHex(upload.digest());
                        upload = null;
                        respond(ctx, HttpResponseStatus.OK, hex + " " + uploaded + "\n");
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private FullHttpResponse full(HttpResponseStatus status, String body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            HttpUtil.setContentLength(r, r.content().readableBytes());
            return r;
        }

        private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            write(ctx, full(status, body));
        }

        private void write(ChannelHandlerContext ctx, FullHttpResponse r) {
            HttpUtil.setKeepAlive(r, keepAlive);
            var f = ctx.writeAndFlush(r);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof TextWebSocketFrame) {
                String text = ((TextWebSocketFrame) msg).text();
                ReferenceCountUtil.release(msg);
                ctx.writeAndFlush(new TextWebSocketFrame("echo: " + text));
            } else {
                ctx.fireChannelRead(msg);
            }
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
