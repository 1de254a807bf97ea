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
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTPS origin for tests (TLS terminated here, never in the proxy). Endpoints:
 * {@code GET /hello} names this origin and the SNI it received; {@code GET /bytes?n=N&seed=S} streams
 * {@link DeterministicBytes}; {@code POST /sha256} answers the body's SHA-256 and length.
 */
public final class TlsOrigin implements AutoCloseable {
    private static final AttributeKey<String> SNI = AttributeKey.valueOf("sni");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel channel;
    private final String name;
    private final AtomicInteger connections = new AtomicInteger();

    public TlsOrigin(String host, int port, TestPki pki) throws Exception {
        SslContext ssl = SslContextBuilder.forServer(pki.serverKeyManagers()).build();
        this.name = host + ":" + port;
        this.channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(new SniHandler(hostname -> ssl))
                                .addLast(new SniRecorder())
                                .addLast(new HttpServerCodec())
                                .addLast(new ChunkedWriteHandler())
                                .addLast(new Endpoints());
                    }
                }).bind(new InetSocketAddress(host, port)).sync().channel();
    }

    public int connections() {
        return connections.get();
    }

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
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest req = (HttpRequest) msg;
                    keepAlive = HttpUtil.isKeepAlive(req);
                    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
                    switch (uri.path()) {
                        case "/hello":
                            respond(ctx, "origin=" + name + " sni=" + ctx.channel().attr(SNI).get() + "\n");
                            break;
                        case "/bytes":
                            long n = Long.parseLong(uri.parameters().get("n").get(0));
                            long seed = Long.parseLong(uri.parameters().getOrDefault("seed", java.util.List.of("1")).get(0));
                            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                            HttpUtil.setContentLength(head, n);
                            HttpUtil.setKeepAlive(head, keepAlive);
                            ctx.write(head);
                            var f = ctx.writeAndFlush(new HttpChunkedInput(new DeterministicChunks(seed, n)));
                            if (!keepAlive) {
                                f.addListener(ChannelFutureListener.CLOSE);
                            }
                            break;
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
                        respond(ctx, hex + " " + uploaded + "\n");
                    }
                }
            } finally {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        private void respond(ChannelHandlerContext ctx, String body) {
            respond(ctx, HttpResponseStatus.OK, body);
        }

        private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            HttpUtil.setContentLength(r, r.content().readableBytes());
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

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
