package io.meshegress.proxy.sni;

import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.TlsAlert;
import io.meshegress.proxy.head.ConnectionHead;
import io.meshegress.proxy.head.ListenerHead;
import io.meshegress.proxy.timer.HandshakeDeadline;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.function.Supplier;

/**
 * The pipeline of one accepted connection on an SNI listener, under the configuration current at the moment
 * it was accepted.
 */
public final class SniListenerInitializer extends ChannelInitializer<SocketChannel> {
    private final ListenAddress address;
    private final String listenerName;
    private final Supplier<ProxyRuntime> runtime;
    private final ChannelGroup clients;

    public SniListenerInitializer(ListenAddress address, Supplier<ProxyRuntime> runtime, ChannelGroup clients) {
        this.address = address;
        this.listenerName = "sni " + address;
        this.runtime = runtime;
        this.clients = clients;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ProxyRuntime rt = runtime.get();
        EgressConfig.SniListener listener = rt.sni(address);
        if (listener == null) {
            // A reload removed this listener a moment before its socket closed.
            ch.close();
            return;
        }
        ConnectionHead.Refuser refuser = (c, status, reason) -> {
            // The SNI listener's way of saying no at the head: a handshake_failure alert, then close.
            Downstream.of(c).record(rt.accessLog(), "sni").refused(reason, status, TlsAlert.HANDSHAKE_FAILURE.alertName())
                    .finish();
            LingeringClose.after(c.writeAndFlush(TlsAlert.HANDSHAKE_FAILURE.record(c.alloc())));
        };
        new ListenerHead(listenerName, "sni", listener.proxyProtocol(), listener.upstreamPortFromHeader())
                .open(ch, clients, rt, refuser, () -> {
                    // Built once the client is known: after the PROXY header on a listener that requires one.
                    Downstream downstream = Downstream.of(ch);
                    ConnectionRecord record = downstream.record(rt.accessLog(), "sni");
                    int upstreamPort = listener.upstreamPortFromHeader() ? downstream.headerPort()
                            : listener.upstreamPort();
                    SniRouter router = new SniRouter(rt, record, upstreamPort);
                    ch.pipeline()
                            .addLast("handshake", new HandshakeDeadline(rt.config().timeouts().handshake(),
                                    router::helloTimedOut))
                            .addLast("sni", router);
                });
    }
}
