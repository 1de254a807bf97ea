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
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The socket implementation: Linux's io_uring or epoll where Netty's native library for it loads, else Java
 * NIO. {@link TransportChoice#AUTO} takes the first of {@link #AUTO_ORDER} that is available here; an explicit
 * choice that is unavailable falls back the same way, and {@link #why()} says so (the server logs it once).
 * {@code -Dmeshegress.transport=NAME} stands in for {@code auto} (the test suite runs once per transport with it).
 * Every epoll channel gets {@link EpollInterestFix}, without which Netty 4.2.18's epoll loses data on half-closed
 * connections.
 *
 * @param kind which native layer (or NIO)
 * @param why  one line on how it was chosen, for the log
 */
public record Transport(Kind kind,
                        String why,
                        Supplier<IoHandlerFactory> ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannel,
                        Class<? extends SocketChannel> socketChannel,
                        Class<? extends DatagramChannel> datagramChannel) {

    /** The socket layers, in the words the configuration uses. */
    public enum Kind {
        IO_URING("io_uring"), EPOLL("epoll"), NIO("nio");

        private final String word;

        Kind(String word) {
            this.word = word;
        }

        @Override
        public String toString() {
            return word;
        }
    }

    /**
     * What {@code auto} prefers, first to last. epoll stays first: in a bench/run of both transports on the same
     * build, on an idle machine (bench/README.md, "Transports"), io_uring spent 6 % less CPU per keep-alive
     * request but 9 % more per GiB through a tunnel and 11 % more per new TLS connection.
     */
    static final List<Kind> AUTO_ORDER = List.of(Kind.EPOLL, Kind.IO_URING, Kind.NIO);

    /**
     * Reads grow up to 256 KiB on a busy tunnel (fewer system calls per GiB) and shrink back on a quiet one;
     * Netty's default stops at 64 KiB.
     */
    public static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);

    /** A side reads while its peer has under 512 KiB queued and resumes once that drains below 128 KiB. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(128 * 1024, 512 * 1024);

    /** The transport {@code auto} gives (or the one {@code -Dmeshegress.transport} names). */
    public static Transport select() {
        return select(TransportChoice.AUTO);
    }

    public static Transport select(TransportChoice choice) {
        TransportChoice asked = choice;
        String source = "transport: " + choice.configName();
        if (choice == TransportChoice.AUTO) {
            String property = System.getProperty("meshegress.transport", "");
            if (!property.isEmpty()) {
                asked = TransportChoice.named(property.toLowerCase(java.util.Locale.ROOT)).orElse(TransportChoice.AUTO);
                source = "-Dmeshegress.transport=" + property;
            }
        }
        List<Kind> order = new ArrayList<>();
        switch (asked) {
            case IO_URING -> order.add(Kind.IO_URING);
            case EPOLL -> order.add(Kind.EPOLL);
            case NIO -> order.add(Kind.NIO);
            case AUTO -> { }
        }
        for (Kind k : AUTO_ORDER) {
            if (!order.contains(k)) {
                order.add(k);
            }
        }
        List<String> passedOver = new ArrayList<>();
        for (Kind k : order) {
            Optional<String> unavailable = unavailability(k);
            if (unavailable.isEmpty()) {
                String why = source + (passedOver.isEmpty() ? "" : "; " + String.join("; ", passedOver));
                return of(k, why);
            }
            passedOver.add(k + " unavailable: " + unavailable.get());
        }
        throw new IllegalStateException("no transport: " + passedOver); // NIO is always available
    }

    /** Why {@code kind} cannot be used here, if it cannot. */
    static Optional<String> unavailability(Kind kind) {
        return switch (kind) {
            case NIO -> Optional.empty();
            case EPOLL -> !Epoll.isAvailable() ? Optional.of(String.valueOf(Epoll.unavailabilityCause()))
                    : !EpollInterestFix.available() ? Optional.of("this Netty's epoll cannot keep EPOLLERR set")
                    : Optional.empty();
            // IoUring.isAvailable sets up a ring: false with the cause where the kernel is too old,
            // kernel.io_uring_disabled is set, or a seccomp profile forbids io_uring_setup (EPERM/ENOSYS).
            case IO_URING -> IoUring.isAvailable() ? Optional.empty()
                    : Optional.of(String.valueOf(IoUring.unavailabilityCause()));
        };
    }

    private static Transport of(Kind kind, String why) {
        return switch (kind) {
            case IO_URING -> new Transport(kind, why, IoUringIoHandler::newFactory, IoUringServerSocketChannel.class,
                    IoUringSocketChannel.class, IoUringDatagramChannel.class);
            case EPOLL -> new Transport(kind, why, EpollIoHandler::newFactory, EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
            case NIO -> new Transport(kind, why, NioIoHandler::newFactory, NioServerSocketChannel.class,
                    NioSocketChannel.class, NioDatagramChannel.class);
        };
    }

    /** The transport's word: {@code io_uring}, {@code epoll} or {@code nio}. */
    public String name() {
        return kind.toString();
    }

    /** Whether listeners can open one socket per event loop on the same address (SO_REUSEPORT). */
    public boolean reusePort() {
        return kind != Kind.NIO;
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
        if (kind != Kind.NIO) {
            return () -> {
                ServerChannel ch = kind == Kind.EPOLL ? new EpollServerSocketChannel() : new IoUringServerSocketChannel();
                try {
                    ((Socket) ((UnixChannel) ch).fd()).setKeepAlive(true);
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
        return kind != Kind.NIO;
    }

    /**
     * New outgoing connections to {@code target}: a socket of the target's own address family (an IPv4 one
     * needs no IPV6_V6ONLY call), prepared before it is registered.
     */
    public ChannelFactory<Channel> connectionsTo(InetAddress target) {
        boolean v4 = target instanceof Inet4Address;
        return switch (kind) {
            case EPOLL -> v4 ? EPOLL_V4 : EPOLL_V6;
            // Netty's io_uring channel has no public constructor for an address family: its sockets are the
            // host's preferred family (a dual-stack IPv6 socket reaches an IPv4 target as ::ffff:a.b.c.d).
            case IO_URING -> IO_URING_ANY;
            case NIO -> v4 ? NIO_V4 : NIO_V6;
        };
    }

    // Made once: connectionsTo runs for every upstream connection.
    private static final ChannelFactory<Channel> EPOLL_V4 = () -> epoll(SocketProtocolFamily.INET);
    private static final ChannelFactory<Channel> EPOLL_V6 = () -> epoll(SocketProtocolFamily.INET6);
    private static final ChannelFactory<Channel> IO_URING_ANY = IoUringSocketChannel::new;
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
     * ({@code isOutputShutdown} reads the socket's state). io_uring likewise: the callers shut a socket only
     * once their last write has completed (Netty completes an io_uring write when the kernel has taken its
     * bytes), so no write is left in the ring to overtake. Elsewhere, Netty's own.
     */
    public static ChannelFuture shutdownOutput(DuplexChannel ch) {
        if (ch instanceof UnixChannel && ((UnixChannel) ch).fd() instanceof Socket && ch.isOpen()) {
            try {
                ((Socket) ((UnixChannel) ch).fd()).shutdown(false, true);
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
