package io.meshegress.transport;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.channels.spi.SelectorProvider;
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

    /**
     * The first handler of a listening channel: it prepares each accepted connection before Netty registers it
     * with its event loop, so that the interest set the connection is added with already holds what
     * {@link EpollInterestFix} needs (afterwards, each change is one more {@code epoll_ctl} per connection).
     */
    public ChannelHandler acceptedConnections() {
        return PrepareAccepted.INSTANCE;
    }

    /**
     * Listening sockets, created with the options that every accepted socket inherits from them (Linux copies
     * SO_KEEPALIVE to the sockets {@code accept} returns), so that no connection pays a system call to set
     * them. Where {@link #listenersPassOnKeepAlive()} is false, the listener sets it per connection instead.
     */
    public ChannelFactory<ServerChannel> listeningChannels() {
        if (name.equals("epoll")) {
            return () -> {
                EpollServerSocketChannel ch = new EpollServerSocketChannel();
                try {
                    ((Socket) ch.fd()).setKeepAlive(true);
                } catch (IOException e) {
                    ch.unsafe().closeForcibly();
                    throw new UncheckedIOException("cannot set SO_KEEPALIVE on a listening socket", e);
                }
                return ch;
            };
        }
        return NioServerSocketChannel::new;
    }

    /** Whether {@link #listeningChannels()} sockets hand SO_KEEPALIVE on to the connections they accept. */
    public boolean listenersPassOnKeepAlive() {
        return name.equals("epoll");
    }

    /**
     * New outgoing connections to {@code target}: a socket of the target's own address family (an IPv4 one
     * needs no IPV6_V6ONLY call), prepared before it is registered.
     */
    public ChannelFactory<Channel> connectionsTo(InetAddress target) {
        boolean v4 = target instanceof Inet4Address;
        if (reusePort()) { // epoll
            return v4 ? EPOLL_V4 : EPOLL_V6;
        }
        return v4 ? NIO_V4 : NIO_V6;
    }

    // Made once: connectionsTo runs for every upstream connection.
    private static final ChannelFactory<Channel> EPOLL_V4 = () -> epoll(SocketProtocolFamily.INET);
    private static final ChannelFactory<Channel> EPOLL_V6 = () -> epoll(SocketProtocolFamily.INET6);
    private static final ChannelFactory<Channel> NIO_V4 =
            () -> new NioSocketChannel(SelectorProvider.provider(), SocketProtocolFamily.INET);
    private static final ChannelFactory<Channel> NIO_V6 =
            () -> new NioSocketChannel(SelectorProvider.provider(), SocketProtocolFamily.INET6);

    private static Channel epoll(SocketProtocolFamily family) {
        EpollSocketChannel ch = new EpollSocketChannel(family);
        EpollInterestFix.apply(ch);
        return ch;
    }

    @ChannelHandler.Sharable
    private static final class PrepareAccepted extends ChannelInboundHandlerAdapter {
        static final PrepareAccepted INSTANCE = new PrepareAccepted();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel) {
                EpollInterestFix.apply((Channel) msg);
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Sends a FIN on {@code ch} once the caller has seen everything before it flushed. On epoll the socket is
     * shut straight away (the same {@code shutdown(SHUT_WR)} Netty makes): Netty's {@code shutdownOutput}
     * builds a {@code ChannelOutputShutdownException} with a stack trace on every call, to fail writes still
     * queued, and a relay passing a half-close on has none queued. Netty still sees the output as shut
     * ({@code isOutputShutdown} reads the socket's state). Elsewhere, Netty's own.
     */
    public static ChannelFuture shutdownOutput(DuplexChannel ch) {
        if (ch instanceof EpollSocketChannel && ch.isOpen()) {
            try {
                ((Socket) ((EpollSocketChannel) ch).fd()).shutdown(false, true);
                return ch.newSucceededFuture();
            } catch (IOException | RuntimeException e) {
                // A peer that has reset the connection makes shutdown fail with ENOTCONN, which Netty reports
                // as an unchecked NotYetConnectedException: a failed future like any other, so that the
                // caller's listener still runs and closes the channel.
                return ch.newFailedFuture(e);
            }
        }
        return ch.shutdownOutput();
    }

    /** Event loops on daemon threads: the process lives as long as its main thread, never longer. */
    public MultiThreadIoEventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("mesh-egress-io", true),
                ioHandlerFactory.get());
    }
}
