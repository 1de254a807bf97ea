package io.meshegress.server;

import io.meshegress.transport.Transport;
import io.meshegress.admin.AdminServer;
import io.meshegress.admin.StatusPage;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.observe.StatusBoard;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.DrainEvent;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.http.HttpListenerInitializer;
import io.meshegress.proxy.sni.SniListenerInitializer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.Errors;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: the listeners of the current config bound on shared event loops. A reload swaps the
 * config whole (new connections take the new one, existing ones keep theirs) and opens or closes listeners
 * that were added or removed. A drain stops accepting, lets in-flight work finish, then closes the rest.
 */
public final class EgressServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EgressServer.class);

    /** A bound listener, as the log line names it ("sni 0.0.0.0:8443 (TLS passthrough ... port 443)"). */
    public record BoundListener(String kind, InetSocketAddress address, String description) {
    }

    /** What a config wants bound: the kind and address identify it; the rest is how. */
    private record ListenerSpec(ListenerKey key, ChannelHandler initializer, String description) {
        String kind() {
            return key.kind();
        }

        ListenAddress address() {
            return key.address();
        }
    }

    /** What identifies a bound listener across reloads: its kind and address. */
    private record ListenerKey(String kind, ListenAddress address) {
        @Override
        public String toString() {
            return kind + " " + address;
        }
    }

    private final Transport transport;
    /** Each loop accepts and serves its own connections (see {@link #bind}). */
    private final EventLoopGroup workers;
    private final AccessLog accessLog;
    private final ProxyMetrics metrics;
    private final StatusBoard board;
    private final Admission admission;
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicReference<ProxyRuntime> runtime = new AtomicReference<>();
    private final Map<ListenerKey, List<Channel>> bound = new LinkedHashMap<>();
    private final Map<ListenerKey, BoundListener> boundInfo = new LinkedHashMap<>();
    private volatile boolean ready;
    private volatile boolean closed;
    private final IdentityAtStart identities = new IdentityAtStart();

    private EgressServer(Transport transport, AccessLog accessLog, ProxyMetrics metrics, StatusBoard board) {
        this.board = board;
        this.transport = transport;
        this.workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        this.accessLog = accessLog;
        this.metrics = metrics;
        this.admission = new Admission(metrics);
        metrics.readiness(() -> ready && identities.ready()); // and the first list of pods is in
        metrics.dnsCacheSize(() -> {
            ProxyRuntime rt = runtime.get();
            return rt == null ? 0 : rt.resolver().cachedNames();
        });
    }

    /** Binds every listener of the config, or closes what it bound and fails. */
    public static EgressServer start(EgressConfig config, AccessLog accessLog, ProxyMetrics metrics)
            throws ListenerBindException {
        return start(config, accessLog, metrics, new StatusBoard());
    }

    /** @param board what the admin status page shows beyond metrics (refusals, the configuration's state) */
    public static EgressServer start(EgressConfig config, AccessLog accessLog, ProxyMetrics metrics, StatusBoard board)
            throws ListenerBindException {
        Transport transport = Transport.select(config.transport());
        LOG.info("transport: {} ({})", transport.name(), transport.why());
        EgressServer server = new EgressServer(transport, accessLog, metrics, board);
        try {
            server.apply(config);
            server.ready = true;
            return server;
        } catch (ListenerBindException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Applies a new config: new connections get it at once, existing ones keep the one they started with.
     * Listeners it adds are bound and those it drops are closed; if a new listener cannot be bound nothing
     * changes and this throws.
     */
    public synchronized void reload(EgressConfig next) throws ListenerBindException {
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        ProxyRuntime current = runtime.get();
        if (current != null && current.config().transport() != next.transport()) {
            LOG.warn("transport: {} takes effect at the next start; the running process keeps {}",
                    next.transport().configName(), transport.name());
        }
        apply(next);
    }

    private void apply(EgressConfig next) throws ListenerBindException {
        ProxyRuntime previous = runtime.get();
        EgressResolver resolver = previous != null && previous.config().resolver().equals(next.resolver())
                ? previous.resolver() : new EgressResolver(next.resolver(), transport, metrics);
        ProxyRuntime nextRuntime = new ProxyRuntime(next, resolver, transport, admission, accessLog, metrics,
                identities.forConfig(next, metrics));
        metrics.expect(next);
        Map<ListenerKey, ListenerSpec> wanted = new LinkedHashMap<>();
        for (ListenerSpec s : specs(next)) {
            wanted.put(s.key(), s);
        }
        // A listener that moves to an address another one leaves must wait for that one to close first.
        List<ListenerKey> closedEarly = new ArrayList<>();
        for (ListenerKey key : new ArrayList<>(bound.keySet())) {
            if (!wanted.containsKey(key) && wanted.values().stream().filter(s -> !bound.containsKey(s.key()))
                    .anyMatch(s -> s.address().overlaps(key.address()))) {
                unbind(key);
                closedEarly.add(key);
            }
        }
        List<ListenerKey> opened = new ArrayList<>();
        try {
            for (ListenerSpec s : wanted.values()) {
                if (!bound.containsKey(s.key())) {
                    bind(s);
                    opened.add(s.key());
                }
            }
        } catch (ListenerBindException e) {
            opened.forEach(this::unbind);
            if (!closedEarly.isEmpty()) {
                LOG.warn("listeners {} were closed to make room and stay closed after the failed change", closedEarly);
            }
            if (resolver != (previous == null ? null : previous.resolver())) {
                resolver.close();
            }
            throw e;
        }
        runtime.set(nextRuntime);
        // Only now, with the runtime their connections are served under in place, do new sockets accept. What
        // arrived since their bind waited in the kernel's backlog; a failed change closed them unaccepted.
        for (ListenerKey key : opened) {
            bound.get(key).forEach(ch -> ch.config().setAutoRead(true));
        }
        for (ListenerKey key : new ArrayList<>(bound.keySet())) {
            if (!wanted.containsKey(key)) {
                unbind(key);
            }
        }
        if (previous != null && previous.resolver() != resolver) {
            // Lookups already under way with the old resolver finish first.
            EgressResolver old = previous.resolver();
            long grace = previous.config().resolver().queryTimeout().toMillis() * 2 + 1000;
            workers.schedule(old::close, grace, TimeUnit.MILLISECONDS);
        }
    }

    private List<ListenerSpec> specs(EgressConfig config) {
        List<ListenerSpec> out = new ArrayList<>();
        for (EgressConfig.Listener l : config.listeners()) {
            ListenerKey key = new ListenerKey(l.kind(), l.listen());
            if (l instanceof EgressConfig.SniListener sni) {
                String upstream = sni.upstreamPortFromHeader() ? "the port each PROXY header names"
                        : sni.upstreamPortIsOwnPort() ? "its own port " + sni.upstreamPort() : "port " + sni.upstreamPort();
                out.add(new ListenerSpec(key, new SniListenerInitializer(sni.listen(), runtime::get, clients), key + " (TLS passthrough by server_name to " + upstream + ")"));
            } else if (l instanceof EgressConfig.HttpListener http) {
                out.add(new ListenerSpec(key, new HttpListenerInitializer(http.listen(), runtime::get, clients),
                        key + " (forward proxy: CONNECT to ports " + http.connectPorts() + ", plain HTTP by Host)"));
            } else if (l instanceof EgressConfig.Admin admin) {
                out.add(new ListenerSpec(key, new AdminServer(() -> ready && identities.ready(), metrics, admin.idleTimeout(),
                        admin.maxConnections(), new StatusPage.Sources(runtime::get, board, admission)),
                        key + " (GET / status page, /healthz, /readyz, /metrics, /refusals, /explain)"));
            }
        }
        return out;
    }

    /**
     * Binds a listener. With epoll and more than one event loop, every loop gets its own socket on the address
     * (SO_REUSEPORT) and serves the connections it accepts itself, so that no connection is handed from an
     * accepting thread to a serving one (two context switches per connection, which cost more than the rest of
     * a short TLS connection's work here). Otherwise one socket; its loop hands connections round the others.
     */
    private void bind(ListenerSpec spec) throws ListenerBindException {
        List<EventLoop> loops = new ArrayList<>();
        if (transport.reusePort()) {
            workers.forEach(e -> loops.add((EventLoop) e));
        }
        List<Channel> channels = new ArrayList<>();
        InetSocketAddress address = spec.address().socketAddress();
        if (loops.size() <= 1) {
            channels.add(bindOne(spec, address, workers, false));
        } else {
            ensureFree(spec, address);
            try {
                for (EventLoop loop : loops) {
                    Channel ch = bindOne(spec, address, loop, true);
                    channels.add(ch);
                    // Port 0 picks a port once; the other loops join that one.
                    address = (InetSocketAddress) ch.localAddress();
                }
            } catch (ListenerBindException e) {
                channels.forEach(ch -> ch.close().awaitUninterruptibly());
                throw e;
            }
        }
        bound.put(spec.key(), channels);
        boundInfo.put(spec.key(), new BoundListener(spec.kind(), (InetSocketAddress) channels.get(0).localAddress(),
                spec.description()));
        LOG.info("listening: {}", spec.description());
    }

    /**
     * SO_REUSEPORT would let this process share an address with another that also set it (a second
     * mesh-egress, say) and silently split the traffic: a plain bind first finds anyone already there.
     */
    private static void ensureFree(ListenerSpec spec, InetSocketAddress address) throws ListenerBindException {
        if (address.getPort() == 0) {
            return;
        }
        // A bound socket that does not listen: a listening probe would take connections into its backlog in the
        // instant it exists, and reset them as it closes.
        try (SocketChannel probe = SocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            probe.bind(address);
        } catch (IOException e) {
            String why = isAddressInUse(e) ? " is already in use" : ": cannot listen (" + e.getMessage() + ")";
            throw new ListenerBindException(spec.address() + why, e);
        }
    }

    private Channel bindOne(ListenerSpec spec, InetSocketAddress address, EventLoopGroup group, boolean reusePort)
            throws ListenerBindException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group, group)
                .channelFactory(transport.listeningChannels())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Bound, not accepting: apply() starts accepting once the runtime is set (a connection in the
                // first instant after bind would otherwise find none, or the previous config's).
                .option(ChannelOption.AUTO_READ, false)
                // TCP_NODELAY is Netty's default on Linux; setting it again costs a system call per connection.
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, Transport.RECEIVE_SIZES)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                .handler(transport.acceptedConnections())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(spec.initializer());
                    }
                });
        if (reusePort) {
            b.option(UnixChannelOption.SO_REUSEPORT, true);
        }
        if (!transport.listenersPassOnKeepAlive()) {
            b.childOption(ChannelOption.SO_KEEPALIVE, true);
        }
        var future = b.bind(address).awaitUninterruptibly();
        if (!future.isSuccess()) {
            Throwable cause = future.cause();
            String why = isAddressInUse(cause) ? " is already in use" : ": cannot listen (" + cause.getMessage() + ")";
            throw new ListenerBindException(spec.address() + why, cause);
        }
        // After Netty's acceptor (added while binding), so its pause-after-failure still happens first.
        future.channel().pipeline().addLast(new AcceptErrors(spec.kind() + " " + spec.address()));
        return future.channel();
    }

    private void unbind(ListenerKey key) {
        List<Channel> channels = bound.remove(key);
        boundInfo.remove(key);
        if (channels != null) {
            channels.forEach(ch -> ch.close().awaitUninterruptibly());
            LOG.info("stopped listening: {} (its open connections continue)", key);
        }
    }

    private static boolean isAddressInUse(Throwable cause) {
        if (cause instanceof BindException) {
            return String.valueOf(cause.getMessage()).contains("in use");
        }
        return cause instanceof Errors.NativeIoException
                && String.valueOf(cause.getMessage()).contains("Address already in use");
    }

    /**
     * Stops taking new connections and lets those in flight finish for up to {@code period}: /readyz turns
     * 503 at once, connections between HTTP requests close, a request in progress is answered with
     * {@code Connection: close}, tunnels run on. Whatever is left when the period ends is closed.
     */
    public void drain(Duration period) {
        ready = false;
        synchronized (this) {
            for (ListenerKey key : new ArrayList<>(bound.keySet())) {
                if (!key.kind().equals("admin")) {
                    unbind(key);
                }
            }
        }
        clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE));
        long deadline = System.nanoTime() + period.toNanos();
        LOG.info("draining: {} connections open, waiting up to {} ms", admission.open(), period.toMillis());
        try {
            admission.awaitNoneOpen(deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (admission.open() > 0) {
            LOG.info("drain period over: closing {} connections", admission.open());
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    public List<BoundListener> listeners() {
        synchronized (this) {
            return List.copyOf(boundInfo.values());
        }
    }

    /** Client connections admitted to the proxy listeners and not yet closed. */
    public int openConnections() {
        return admission.open();
    }

    public boolean ready() {
        return ready;
    }

    /** The configuration new connections get now. */
    public EgressConfig config() {
        return runtime.get().config();
    }

    public String transportName() {
        return transport.name();
    }

    @Override
    public void close() {
        ready = false;
        synchronized (this) {
            closed = true;
            for (ListenerKey key : new ArrayList<>(bound.keySet())) {
                unbind(key);
            }
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        ProxyRuntime rt = runtime.get();
        if (rt != null) {
            rt.resolver().close();
        }
        identities.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
