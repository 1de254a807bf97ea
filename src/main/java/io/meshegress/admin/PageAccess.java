package io.meshegress.admin;

import io.meshegress.policy.Cidr;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * Whether a peer may read a route: {@link Granted} or {@link Forbidden}. A page route answers a peer inside one
 * of {@code admin.pages.clients} (by default loopback: 127/8 and ::1, and an IPv4-mapped {@code ::ffff:127.x},
 * which is the same IPv4 peer seen through a dual-stack socket; {@link Cidr#contains} compares it as IPv4).
 * A peer that is not an IP socket address (none on the admin listener today) is forbidden the pages.
 */
sealed interface PageAccess {
    record Granted() implements PageAccess {
    }

    record Forbidden() implements PageAccess {
    }

    PageAccess GRANTED = new Granted();
    PageAccess FORBIDDEN = new Forbidden();

    static PageAccess decide(AdminRoute route, SocketAddress peer, List<Cidr> pageClients) {
        if (route.audience == AdminRoute.Audience.ANYONE) {
            return GRANTED;
        }
        if (peer instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return admits(pageClients, inet.getAddress()) ? GRANTED : FORBIDDEN;
        }
        return FORBIDDEN;
    }

    static boolean admits(List<Cidr> pageClients, InetAddress peer) {
        for (Cidr c : pageClients) {
            if (c.contains(peer)) {
                return true;
            }
        }
        return false;
    }
}
