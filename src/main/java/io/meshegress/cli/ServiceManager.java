package io.meshegress.cli;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the service manager what state {@code run} is in, by the sd_notify(3) protocol: one datagram of
 * newline-separated assignments to the AF_UNIX socket named by {@code $NOTIFY_SOCKET} (a path, or an abstract
 * name written with a leading {@code @}). Without that variable (not started by systemd with {@code Type=notify})
 * every call does nothing. The JDK has no datagram socket for AF_UNIX, so this uses Netty's native transport
 * library (already loaded for the epoll event loops) rather than start a program per message.
 */
final class ServiceManager {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceManager.class);

    /** What the service manager hears. */
    enum State {
        /** Listeners bound, serving: {@code systemctl start} returns. */
        READY("READY=1\nSTATUS=serving"),
        /** A reload began; READY follows when it is over, applied or rejected. */
        RELOADING("RELOADING=1"),
        /** Draining before exit. */
        STOPPING("STOPPING=1\nSTATUS=draining");

        final String message;

        State(String message) {
            this.message = message;
        }
    }

    private final byte[] address;
    private Socket socket;

    private ServiceManager(byte[] address) {
        this.address = address;
    }

    static ServiceManager fromEnvironment() {
        String name = System.getenv("NOTIFY_SOCKET");
        if (name == null || !(name.startsWith("/") || name.startsWith("@")) || name.length() < 2) {
            return new ServiceManager(null);
        }
        byte[] address = name.getBytes(StandardCharsets.UTF_8);
        if (address[0] == '@') {
            address[0] = 0; // Linux's abstract namespace: the name begins with a NUL byte
        }
        return new ServiceManager(address);
    }

    /** Sends the state; a failure is logged and never stops the proxy. */
    synchronized void notify(State state) {
        if (address == null) {
            return;
        }
        String message = state == State.RELOADING
                // CLOCK_MONOTONIC, which HotSpot's nanoTime reads on Linux: systemd's Type=notify-reload wants it
                ? state.message + "\nMONOTONIC_USEC=" + System.nanoTime() / 1000
                : state.message;
        try {
            if (socket == null) {
                Epoll.ensureAvailability();
                socket = Socket.newSocketDomainDgram();
            }
            byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            socket.sendToDomainSocket(buffer, 0, bytes.length, address);
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.warn("cannot notify the service manager ({}): {}", state, e.toString());
        }
    }
}
