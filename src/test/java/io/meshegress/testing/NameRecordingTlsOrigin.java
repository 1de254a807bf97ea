package io.meshegress.testing;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;

/**
 * A TLS front end that serves any name, as a shared front end does: the JDK's server engine behind Netty's
 * SslHandler, with an {@link SNIMatcher} that accepts every host_name and records each one the engine is asked
 * to match (once per ClientHello it reads, so a second ClientHello after a HelloRetryRequest shows up here).
 * A finished handshake is answered with "served" and closed.
 */
public final class NameRecordingTlsOrigin implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final List<String> names = new CopyOnWriteArrayList<>();

    public NameRecordingTlsOrigin(String host, int port, TestPki pki) throws Exception {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(pki.serverKeyManagers().getKeyManagers(), null, null);
        this.channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SSLEngine engine = context.createSSLEngine();
                        engine.setUseClientMode(false);
                        SSLParameters p = engine.getSSLParameters();
                        p.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
                            @Override
                            public boolean matches(SNIServerName name) {
                                names.add(new String(name.getEncoded(), StandardCharsets.ISO_8859_1));
                                return true;
                            }
                        }));
                        engine.setSSLParameters(p);
                        ch.pipeline().addLast(new SslHandler(engine)).addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                                    ctx.writeAndFlush(Unpooled.copiedBuffer("served\n", StandardCharsets.US_ASCII))
                                            .addListener(ChannelFutureListener.CLOSE);
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                }).bind(new InetSocketAddress(host, port)).sync().channel();
    }

    /** Every host_name the engine was asked to match, in order. */
    public List<String> names() {
        return List.copyOf(names);
    }

    public void clear() {
        names.clear();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
