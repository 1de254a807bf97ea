package io.meshegress.proxy;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.function.Supplier;

/**
 * The socket implementation. Java NIO by default; {@code -Dmeshegress.transport=epoll} selects Linux's native
 * epoll where Netty's native library loads.
 *
 * <p>Why not epoll by default: in Netty 4.2.18 an epoll channel whose input was shut down (a client that
 * half-closed) is removed from the epoll set once it has no other interest, and the next write that must wait
 * for EPOLLOUT then fails with ENOENT: the rest of a response to a half-closed client is lost. The relay test
 * {@code rawBytesArriveUnchangedBothWaysAndHalfCloseIsPassedOn} shows it. Correct bytes come first.
 */
public record Transport(String name,
                        Supplier<IoHandlerFactory> ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannel,
                        Class<? extends SocketChannel> socketChannel,
                        Class<? extends DatagramChannel> datagramChannel) {

    public static Transport select() {
        boolean wantEpoll = "epoll".equalsIgnoreCase(System.getProperty("meshegress.transport", ""));
        if (wantEpoll && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
        }
        return new Transport("nio", NioIoHandler::newFactory, NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
    }

    public MultiThreadIoEventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory.get());
    }
}
