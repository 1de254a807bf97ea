package io.meshegress.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sockets the transport makes, on real loopback connections: what each one needs is set without a system call
 * per connection, and is really set.
 */
class TransportSocketsTest {
    final Transport transport = Transport.select();
    final MultiThreadIoEventLoopGroup group = transport.newGroup(1);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void acceptedConnectionsHaveKeepAliveFromTheirListenerAndAreRegisteredWithTheInterestFix() throws Exception {
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        ServerBootstrap b = new ServerBootstrap().group(group, group)
                .channelFactory(transport.listeningChannels())
                .handler(transport.acceptedConnections())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.complete(ch);
                    }
                });
        if (!transport.listenersPassOnKeepAlive()) {
            b.childOption(ChannelOption.SO_KEEPALIVE, true);
        }
        Channel server = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try (Socket client = new Socket()) {
            client.connect(server.localAddress(), 5000);
            Channel ch = accepted.get(5, TimeUnit.SECONDS);
            // Read from the accepted socket itself (getsockopt), not from a value Netty remembers.
            assertThat(ch.eventLoop().submit(() -> ch.config().getOption(ChannelOption.SO_KEEPALIVE)).get()).isTrue();
            assertThat(client.getKeepAlive()).as("the client's own socket is not ours to change").isFalse();
        } finally {
            server.close().sync();
        }
        assertThat(server).isInstanceOf(transport.serverChannel());
    }

    @Test
    void theSuiteRunsOnTheTransportItAsksFor() {
        // The io_uring executions of the suite set the property; a run that silently fell back to epoll would
        // prove nothing about io_uring.
        String asked = System.getProperty("meshegress.transport", "");
        if (!asked.isEmpty()) {
            assertThat(transport.name()).isEqualTo(asked);
        } else {
            assertThat(transport.kind()).isEqualTo(Transport.AUTO_ORDER.stream()
                    .filter(k -> Transport.unavailability(k).isEmpty()).findFirst().orElseThrow());
        }
    }

    @Test
    void outgoingConnectionsUseTheTargetsAddressFamilyAndConnect() throws Exception {
        try (java.net.ServerSocket origin = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Channel ch = new Bootstrap().group(group).channelFactory(transport.connectionsTo(origin.getInetAddress()))
                    .handler(new ChannelHandlerAdapter() { })
                    .connect(origin.getLocalSocketAddress()).sync().channel();
            try (Socket peer = origin.accept()) {
                assertThat(((InetSocketAddress) ch.localAddress()).getAddress()).isInstanceOf(java.net.Inet4Address.class);
                assertThat(peer.getInetAddress().getHostAddress()).isEqualTo("127.0.0.1");
                assertThat(ch).isInstanceOf(transport.socketChannel());
            } finally {
                ch.close().sync();
            }
        }
    }
}
