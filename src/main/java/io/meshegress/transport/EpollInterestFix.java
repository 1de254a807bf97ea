package io.meshegress.transport;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.Native;
import java.lang.reflect.Method;

/**
 * Works around a Netty 4.2.18 epoll defect that loses data on half-closed connections: when a channel's
 * interest set becomes empty (its input was shut down and nothing is waiting to be written) Netty removes the
 * file descriptor from epoll but still believes it registered, so the next write that has to wait for
 * EPOLLOUT fails with ENOENT and the rest of the response to a half-closed client is dropped. Keeping EPOLLERR
 * in the interest set (the kernel reports it whether asked or not) means the set is never empty and the
 * descriptor is never removed. The relay's half-close test shows the defect without this.
 */
final class EpollInterestFix {
    private static final Method SET_FLAG = find();

    private EpollInterestFix() {
    }

    private static Method find() {
        try {
            // setFlag is declared by EpollSocketChannel's (package-private) base class.
            Method m = EpollSocketChannel.class.getSuperclass().getSuperclass().getDeclaredMethod("setFlag", int.class);
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** Whether the workaround can be applied; without it epoll must not be used. */
    static boolean available() {
        return SET_FLAG != null;
    }

    static void apply(Channel ch) {
        if (ch instanceof EpollSocketChannel && SET_FLAG != null) {
            try {
                SET_FLAG.invoke(ch, Native.EPOLLERR);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot keep EPOLLERR in the interest set", e);
            }
        }
    }
}
