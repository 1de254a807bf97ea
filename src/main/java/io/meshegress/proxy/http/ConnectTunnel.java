package io.meshegress.proxy.http;

import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Route;
import io.meshegress.proxy.UpstreamOutcome;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * A CONNECT request: the route table decides, the spine opens the upstream, the client gets "200 Connection
 * established" and both connections go to the relay. Bytes the client sent behind the head (a TLS ClientHello
 * that did not wait) are kept and go first.
 */
final class ConnectTunnel {
    private ConnectTunnel() {
    }

    static void open(ClientConnection conn, HttpListenerContext context, HttpExchange x) {
        RequestTarget t = x.target();
        Destination d = new Destination(t.host(), t.port(), Destination.Kind.CONNECT, x.downstream());
        // The route table decides once, here, before anything of the tunnel is touched.
        Route route = context.connector.route(d);
        if (route instanceof Route.Refused r) {
            conn.fail(x, HttpResponseStatus.FORBIDDEN, r.reason(), true);
            return;
        }
        Route.Allowed allowed = (Route.Allowed) route;
        x.record().wouldRefuse(allowed.wouldRefuse());
        x.tunnelRouted();
        conn.stopParsing();
        allowed.open(conn.eventLoop()).addListener(f -> {
            UpstreamOutcome outcome = (UpstreamOutcome) f.getNow();
            if (!conn.active()) {
                if (outcome instanceof UpstreamOutcome.Connected c) {
                    c.channel().close();
                }
                x.releaseHeld();
                x.record().refused("client closed the connection", 499, null).finish();
                return;
            }
            if (outcome instanceof UpstreamOutcome.Refused r) {
                x.releaseHeld();
                x.record().resolved(r.resolved());
                conn.fail(x, HttpResponseStatus.valueOf(r.refusal().httpStatus()), r.reason(), true);
                return;
            }
            UpstreamOutcome.Connected c = (UpstreamOutcome.Connected) outcome;
            x.record().resolved(c.address()).allowed(c.rule(), 200);
            conn.toClient(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    new HttpResponseStatus(200, "Connection established")));
            if (context.listener.connectSniCheck().on()) {
                checkedTunnel(conn, context, x, c.channel());
                return;
            }
            for (Object early : x.takeHeld()) {
                if (early instanceof ByteBuf b) {
                    x.record().addBytesUp(b.readableBytes());
                    c.channel().write(b);
                } else {
                    ReferenceCountUtil.release(early);
                }
            }
            c.channel().flush();
            conn.becomeTunnel(x, c.channel());
        });
    }

    /**
     * http.connectSniCheck: the relay starts with {@link TunnelSniCheck} before it (and its {@link ServerHelloWatch}
     * on the upstream), and the bytes that came with the CONNECT head go through the check like every later byte.
     */
    private static void checkedTunnel(ClientConnection conn, HttpListenerContext context, HttpExchange x,
                                      io.netty.channel.Channel upstream) {
        java.util.List<Object> early = x.takeHeld();
        io.netty.channel.ChannelPipeline p = conn.becomeTunnel(x, upstream);
        TunnelSniCheck check = new TunnelSniCheck(x.target().host(), context, x.record(), upstream);
        upstream.pipeline().addBefore("tunnel", ServerHelloWatch.NAME, check.serverHelloWatch());
        p.addBefore("tunnel", TunnelSniCheck.NAME, check);
        for (Object o : early) {
            p.fireChannelRead(o);
        }
        if (!early.isEmpty()) {
            p.fireChannelReadComplete();
        }
    }
}
