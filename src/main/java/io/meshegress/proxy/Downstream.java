package io.meshegress.proxy;

import io.meshegress.policy.Role;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * Who is on the other end of a client connection, decided once when the listener's pipeline is built: the
 * client's address, the listener that accepted it, and its kind (Envoy's downstream connection info). Everything
 * after the head asks this value, never the socket, so a PROXY-protocol header (which names another client than
 * the TCP peer) has one place to change.
 *
 * @param client   the client as policy, limits and the access log see it
 * @param listener the listener's name as logs show it ({@code http 0.0.0.0:8080})
 * @param kind     {@code http} or {@code sni}
 * @param role     the client's role under the configuration the connection was accepted with
 */
public record Downstream(InetSocketAddress client, String listener, String kind, Role role) {
    private static final AttributeKey<Downstream> KEY = AttributeKey.valueOf(Downstream.class, "downstream");

    /** Decides the downstream of an accepted connection and keeps it on the channel. */
    public static Downstream accept(Channel ch, String listener, String kind, RouteTable routes) {
        InetSocketAddress client = (InetSocketAddress) ch.remoteAddress();
        Downstream d = new Downstream(client, listener, kind, routes.role(client.getAddress()));
        ch.attr(KEY).set(d);
        return d;
    }

    /** The downstream decided when {@code ch} was accepted. */
    public static Downstream of(Channel ch) {
        Downstream d = ch.attr(KEY).get();
        if (d == null) {
            throw new IllegalStateException("no downstream decided for " + ch);
        }
        return d;
    }
}
