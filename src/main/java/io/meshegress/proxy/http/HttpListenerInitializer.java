package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessLog;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.UpstreamConnector;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/** The pipeline of one accepted connection on the HTTP forward-proxy listener. */
public final class HttpListenerInitializer extends ChannelInitializer<SocketChannel> {
    private final HttpListenerContext context;

    public HttpListenerInitializer(EgressConfig.HttpListener listener, Admission admission,
                                   UpstreamConnector connector, EgressConfig.Timeouts timeouts, AccessLog accessLog) {
        this.context = new HttpListenerContext(listener, admission, connector, timeouts, accessLog);
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        HttpProxyFrontend frontend = new HttpProxyFrontend(context);
        ProxyResponseEncoder encoder = new ProxyResponseEncoder();
        ch.pipeline()
                .addLast(HttpProxyFrontend.HEAD_TIMEOUT, new HeadTimeout(context.timeouts.handshake(), frontend::headTimedOut))
                .addLast(HttpProxyFrontend.DECODER, new ProxyRequestDecoder())
                .addLast(HttpProxyFrontend.ENCODER, encoder)
                .addLast(HttpProxyFrontend.IDLE, new IdleStateHandler(0, 0, context.timeouts.idle().toMillis(),
                        TimeUnit.MILLISECONDS))
                .addLast(HttpProxyFrontend.FRONTEND, frontend);
    }
}
