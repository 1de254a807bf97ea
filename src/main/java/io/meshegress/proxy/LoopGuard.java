package io.meshegress.proxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collection;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Refuses destinations that are one of this proxy's own listeners: a request to itself would come back in,
 * be proxied again, and so on until file descriptors run out.
 */
public final class LoopGuard {
    private final List<InetSocketAddress> listeners;
    private final Set<InetAddress> localAddresses;

    public LoopGuard(Collection<InetSocketAddress> listeners) {
        this.listeners = List.copyOf(listeners);
        this.localAddresses = localAddresses();
    }

    public boolean isLoop(InetSocketAddress target) {
        InetAddress address = target.getAddress();
        for (InetSocketAddress l : listeners) {
            if (l.getPort() != target.getPort()) {
                continue;
            }
            if (l.getAddress().equals(address)) {
                return true;
            }
            if (l.getAddress().isAnyLocalAddress()
                    && (address.isLoopbackAddress() || address.isAnyLocalAddress() || localAddresses.contains(address))) {
                return true;
            }
        }
        return false;
    }

    private static Set<InetAddress> localAddresses() {
        Set<InetAddress> out = new HashSet<>();
        try {
            Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                Enumeration<InetAddress> addresses = interfaces.nextElement().getInetAddresses();
                while (addresses.hasMoreElements()) {
                    out.add(addresses.nextElement());
                }
            }
        } catch (SocketException e) {
            // Without the interface list only loopback and exact listener addresses are recognised.
        }
        return Set.copyOf(out);
    }
}
