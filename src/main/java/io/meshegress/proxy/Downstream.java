package io.meshegress.proxy;

import io.meshegress.identity.ClientIdentity;
import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.policy.Role;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * Who is on the other end of a client connection, decided once at the head of the listener's pipeline: the
 * client's address, the listener that accepted it, its kind and the client's role (Envoy's downstream
 * connection info). Everything after the head asks this value, never the socket. Without PROXY protocol the
 * client is the TCP peer; with it, the header's source, and the peer is kept beside it.
 *
 * @param client     the client as policy, roles, limits and the access log see it
 * @param listener   the listener's name as logs show it ({@code http 0.0.0.0:8080})
 * @param kind       {@code http} or {@code sni}
 * @param role       the client's role under the configuration the connection was accepted with
 * @param identity   what the cluster said about the client at accept (its pod, no pod, or not ready yet)
 * @param peer       the TCP peer when a PROXY header named another client; else null
 * @param headerPort the destination port a PROXY header carried; else 0
 */
public record Downstream(InetSocketAddress client, String listener, String kind, Role role, ClientIdentity identity,
                         InetSocketAddress peer, int headerPort) {
    private static final AttributeKey<Downstream> KEY = AttributeKey.valueOf(Downstream.class, "downstream");

    /** Decides the downstream of an accepted connection (the TCP peer is the client) and keeps it on the channel. */
    public static Downstream accept(Channel ch, String listener, String kind, RouteTable routes) {
        InetSocketAddress client = (InetSocketAddress) ch.remoteAddress();
        ClientIdentity identity = routes.identify(client.getAddress());
        return keep(ch, new Downstream(client, listener, kind, routes.role(client.getAddress(), identity), identity,
                null, 0));
    }

    /**
     * The PROXY header named the client: it replaces the TCP peer for everything after the head. Public for
     * {@code proxy.head}'s PROXY-protocol reader only; nothing after the head calls it.
     */
    public static Downstream fromHeader(Channel ch, InetSocketAddress source, int destinationPort, RouteTable routes) {
        Downstream tcp = of(ch);
        ClientIdentity identity = routes.identify(source.getAddress());
        return keep(ch, new Downstream(source, tcp.listener, tcp.kind, routes.role(source.getAddress(), identity),
                identity, tcp.client, destinationPort));
    }

    /** The same connection as one request of it is judged: with the role its credential selects. */
    public Downstream withRole(Role requestRole) {
        return new Downstream(client, listener, kind, requestRole, identity, peer, headerPort);
    }

    private static Downstream keep(Channel ch, Downstream d) {
        ch.attr(KEY).set(d);
        return d;
    }

    /** The downstream decided when {@code ch} was accepted (or when its PROXY header arrived). */
    public static Downstream of(Channel ch) {
        Downstream d = ch.attr(KEY).get();
        if (d == null) {
            throw new IllegalStateException("no downstream decided for " + ch);
        }
        return d;
    }

    /** The access-log record of one connection or request of this downstream. */
    public ConnectionRecord record(AccessLog log, String recordKind) {
        ConnectionRecord r = new ConnectionRecord(log, listener, recordKind, client, role.name(), peer);
        if (identity instanceof ClientIdentity.Pod p) {
            r.workload(new AccessEntry.Workload(p.workload().namespace(), p.workload().serviceAccount(),
                    p.workload().pod()));
        }
        return r;
    }
}
