package io.meshegress.proxy;

import io.meshegress.admin.AdminServer;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.AccessLog;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.proxy.http.HttpListenerInitializer;
import io.meshegress.proxy.sni.SniListenerInitializer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.Errors;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: every listener of one config bound on shared event loops. {@link #close()} stops it.
 */
public final class EgressServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EgressServer.class);

    /** A bound listener, as the log line names it ("sni 0.0.0.0:8443 -> upstream port 443"). */
    public record BoundListener(String kind, InetSocketAddress address, String description) {
    }

    private final Transport transport;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final EgressResolver resolver;
    private final List<Channel> serverChannels = new ArrayList<>();
    private final List<BoundListener> listeners = new ArrayList<>();
    private Admission admission;

    private EgressServer(Transport transport, int workerThreads, EgressResolver resolver) {
        this.transport = transport;
        this.acceptors = transport.newGroup(1);
        this.workers = transport.newGroup(workerThreads);
        this.resolver = resolver;
    }

    /** Binds every listener of the config, or closes what it bound and fails. */
    public static EgressServer start(EgressConfig config, AccessLog accessLog) throws ListenerBindException {
        Transport transport = Transport.select();
        EgressServer server = new EgressServer(transport, Runtime.getRuntime().availableProcessors(),
                new EgressResolver(config.resolver(), transport));
        try {
            server.bindAll(config, accessLog);
            return server;
        } catch (ListenerBindException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void bindAll(EgressConfig config, AccessLog accessLog) throws ListenerBindException {
        List<InetSocketAddress> proxyAddresses = new ArrayList<>();
        config.sni().forEach(s -> proxyAddresses.add(s.listen().socketAddress()));
        if (config.http() != null) {
            proxyAddresses.add(config.http().listen().socketAddress());
        }
        EgressPolicy policy = new EgressPolicy(config.policy(), config.mesh());
        UpstreamConnector connector = new UpstreamConnector(policy, resolver, new LoopGuard(proxyAddresses), transport,
                config.timeouts());
        admission = new Admission(policy, config.limits());
        for (EgressConfig.SniListener sni : config.sni()) {
            String upstream = sni.upstreamPortIsOwnPort() ? "its own port " + sni.upstreamPort()
                    : "port " + sni.upstreamPort();
            bind("sni", sni.listen(), new SniListenerInitializer(sni, admission, connector, config.timeouts(), accessLog),
                    "sni " + sni.listen() + " (TLS passthrough by server_name to " + upstream + ")");
        }
        if (config.http() != null) {
            bind("http", config.http().listen(), new HttpListenerInitializer(config.http(), admission,
                    connector, config.timeouts(), accessLog), "http " + config.http().listen()
                    + " (forward proxy: CONNECT to ports " + config.http().connectPorts() + ", plain HTTP by Host)");
        }
        if (config.admin() != null) {
            bind("admin", config.admin().listen(), new AdminServer(), "admin " + config.admin().listen()
                    + " (GET /healthz, /readyz)");
        }
    }

    private void bind(String kind, ListenAddress address, ChannelHandler initializer, String description)
            throws ListenerBindException {
        ServerBootstrap b = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(initializer);
        var future = b.bind(address.socketAddress()).awaitUninterruptibly();
        if (!future.isSuccess()) {
            Throwable cause = future.cause();
            String why = isAddressInUse(cause) ? " is already in use" : ": cannot listen (" + cause.getMessage() + ")";
            throw new ListenerBindException(address + why, cause);
        }
        Channel ch = future.channel();
        serverChannels.add(ch);
        BoundListener bound = new BoundListener(kind, (InetSocketAddress) ch.localAddress(), description);
        listeners.add(bound);
        LOG.info("listening: {}", description);
    }

    private static boolean isAddressInUse(Throwable cause) {
        if (cause instanceof BindException) {
            return String.valueOf(cause.getMessage()).contains("in use");
        }
        return cause instanceof Errors.NativeIoException
                && String.valueOf(cause.getMessage()).contains("Address already in use");
    }

    public List<BoundListener> listeners() {
        return List.copyOf(listeners);
    }

    /** Client connections admitted to the proxy listeners and not yet closed. */
    public int openConnections() {
        return admission == null ? 0 : admission.open();
    }

    public String transportName() {
        return transport.name();
    }

    @Override
    public void close() {
        for (Channel ch : serverChannels) {
            ch.close().awaitUninterruptibly();
        }
        resolver.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
