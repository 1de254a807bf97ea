package io.meshegress.proxy.http;

import io.meshegress.config.ListenAddress;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.head.ConnectionHead;
import io.meshegress.proxy.head.ListenerHead;
import io.meshegress.proxy.timer.HandshakeDeadline;
import io.meshegress.proxy.timer.IdleTimeout;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.function.Supplier;

/**
 * The pipeline of one accepted connection on the HTTP forward-proxy listener, under the configuration current
 * at the moment it was accepted.
 */
public final class HttpListenerInitializer extends ChannelInitializer<SocketChannel> {
    private final ListenAddress address;
    private final Supplier<ProxyRuntime> runtime;
    private final ChannelGroup clients;

    public HttpListenerInitializer(ListenAddress address, Supplier<ProxyRuntime> runtime, ChannelGroup clients) {
        this.address = address;
        this.runtime = runtime;
        this.clients = clients;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ProxyRuntime rt = runtime.get();
        if (rt.config().http() == null || !rt.config().http().listen().equals(address)) {
            // A reload removed this listener a moment before its socket closed.
            ch.close();
            return;
        }
        HttpListenerContext context = rt.perListenerKind(HttpListenerContext.class,
                r -> new HttpListenerContext(r.config().http(), r, r.admission(), r.accessLog()));
        ConnectionHead.Refuser refuser = (c, status, reason) -> ClientConnection.refuseAtHead(context, c, status, reason);
        new ListenerHead(context.listenerName, "http", context.listener.proxyProtocol(), false)
                .open(ch, clients, rt, refuser, () -> {
                    ClientConnection connection = new ClientConnection(context);
                    ch.pipeline()
                            .addLast(ClientConnection.HEAD_TIMEOUT, new HandshakeDeadline(context.timeouts.handshake(),
                                    connection::headTimedOut))
                            .addLast(ClientConnection.DECODER, new ProxyRequestDecoder())
                            .addLast(ClientConnection.ENCODER, new ProxyResponseEncoder())
                            .addLast(ClientConnection.IDLE, new IdleTimeout(context.timeouts.idle(), null))
                            .addLast(ClientConnection.HANDLER, connection);
                });
    }
}
