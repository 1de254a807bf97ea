package io.meshegress.transport;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.WriteBufferWaterMark;
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
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.function.Supplier;

/**
 * The socket implementation: Linux's native epoll where Netty's native library loads (it costs about a third
 * less CPU per request than NIO here), else Java NIO; {@code -Dmeshegress.transport=nio} forces NIO. Every
 * epoll channel gets {@link EpollInterestFix}, without which Netty 4.2.18's epoll loses data on half-closed
 * connections.
 */
public record Transport(String name,
                        Supplier<IoHandlerFactory> ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannel,
                        Class<? extends SocketChannel> socketChannel,
                        Class<? extends DatagramChannel> datagramChannel) {

    /**
     * Reads grow up to 256 KiB on a busy tunnel (fewer system calls per GiB) and shrink back on a quiet one;
     * Netty's default stops at 64 KiB.
     */
    public static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);

    /** A side reads while its peer has under 512 KiB queued and resumes once that drains below 128 KiB. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(128 * 1024, 512 * 1024);

    public static Transport select() {
        boolean forceNio = "nio".equalsIgnoreCase(System.getProperty("meshegress.transport", ""));
        if (!forceNio && Epoll.isAvailable() && EpollInterestFix.available()) {
            return new Transport("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
        }
        return new Transport("nio", NioIoHandler::newFactory, NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
    }

    /** Whether listeners can open one socket per event loop on the same address (SO_REUSEPORT). */
    public boolean reusePort() {
        return name.equals("epoll");
    }

    /** Prepares a freshly registered connection of this transport (see {@link EpollInterestFix}). */
    public void prepare(io.netty.channel.Channel ch) {
        EpollInterestFix.apply(ch);
    }

    /** Event loops on daemon threads: the process lives as long as its main thread, never longer. */
    public MultiThreadIoEventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("mesh-egress-io", true),
                ioHandlerFactory.get());
    }
}
