package io.meshegress.proxy.head;

import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.ProxyRuntime;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.group.ChannelGroup;

/**
 * How every listener kind opens an accepted connection, in one order: the connection joins the drain group,
 * its {@link Downstream} is decided from the TCP peer, a PROXY header is read first where the listener requires
 * one (deciding the Downstream again from the header's source), and then {@link ConnectionHead} admits it
 * ahead of the listener's own handlers, which {@code pipeline} adds.
 *
 * @param portFromHeader the listener takes its upstream port from the PROXY header
 */
public record ListenerHead(String listenerName, String kind, EgressConfig.ProxyProtocol proxyProtocol,
                           boolean portFromHeader) {

    public void open(SocketChannel ch, ChannelGroup clients, ProxyRuntime rt, ConnectionHead.Refuser refuser,
                     Runnable pipeline) {
        clients.add(ch);
        Downstream.accept(ch, listenerName, kind, rt.routes());
        Runnable rest = () -> {
            ch.pipeline().addLast(new ConnectionHead(rt.admission(), rt, refuser));
            pipeline.run();
        };
        if (proxyProtocol.required()) {
            ProxyProtocolHead.install(ch, proxyProtocol, rt, portFromHeader, refuser, rest);
        } else {
            rest.run();
        }
    }
}
