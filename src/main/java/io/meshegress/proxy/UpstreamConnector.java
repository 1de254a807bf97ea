package io.meshegress.proxy;

import io.meshegress.transport.Transport;
import io.meshegress.config.EgressConfig;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.ProxyMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The spine every connection takes after its listener has named a {@link Destination}: the route table's
 * decision (once, before resolving), resolution, the route table's address rules (denyNetworks, loop), then a
 * connect on the client's own event loop to exactly an address that was checked, so DNS rebinding cannot slip a
 * second answer past it.
 */
public final class UpstreamConnector {
    /** The upstream's pipeline is filled by whoever takes the connection; Bootstrap insists on a handler. */
    private static final ChannelHandler NO_HANDLER = new NoHandler();

    private final RouteTable routes;
    private final EgressResolver resolver;
    private final Transport transport;
    private final EgressConfig.Timeouts timeouts;
    private final ProxyMetrics metrics;

    public UpstreamConnector(RouteTable routes, EgressResolver resolver, Transport transport,
                             EgressConfig.Timeouts timeouts, ProxyMetrics metrics) {
        this.metrics = metrics;
        this.routes = routes;
        this.resolver = resolver;
        this.transport = transport;
        this.timeouts = timeouts;
    }

    /**
     * The route table's decision for a destination, once, before anything is opened: a refused route can open
     * nothing, an allowed one opens its upstream at most once (a plain-HTTP request may be served by a pooled
     * connection instead: it is decided all the same).
     */
    public Route route(Destination destination) {
        RouteTable.Verdict verdict = routes.decide(destination);
        return verdict.allowed() ? new Route.Allowed(destination, verdict, this)
                : new Route.Refused(destination, verdict);
    }

    /** Resolves, checks and connects a destination an {@link Route.Allowed} names; completes on {@code loop}. */
    Future<UpstreamOutcome> open(Destination destination, String rule, EventLoop loop) {
        Promise<UpstreamOutcome> promise = loop.newPromise();
        resolver.resolve(destination.host(), loop).addListener(f -> {
            if (!f.isSuccess()) {
                promise.setSuccess(new UpstreamOutcome.Refused(Refusal.NAME_UNRESOLVED, f.cause().getMessage(), null));
                return;
            }
            @SuppressWarnings("unchecked")
            List<InetAddress> addresses = (List<InetAddress>) f.getNow();
            List<InetSocketAddress> permitted = new ArrayList<>(addresses.size());
            UpstreamOutcome.Refused firstRefusal = null;
            for (InetAddress a : addresses) {
                InetSocketAddress target = new InetSocketAddress(a, destination.port());
                Optional<UpstreamOutcome.Refused> refused = routes.address(target);
                if (refused.isEmpty()) {
                    permitted.add(target);
                } else if (firstRefusal == null) {
                    firstRefusal = refused.get();
                }
            }
            if (permitted.isEmpty()) {
                promise.setSuccess(firstRefusal != null ? firstRefusal
                        : new UpstreamOutcome.Refused(Refusal.NAME_UNRESOLVED, destination.host() + " has no address", null));
                return;
            }
            connect(permitted, 0, rule, loop, promise, null);
        });
        return promise;
    }

    /** Tries the permitted addresses in order until one accepts. */
    private void connect(List<InetSocketAddress> targets, int index, String rule, EventLoop loop,
                         Promise<UpstreamOutcome> promise, UpstreamOutcome.Refused lastFailure) {
        if (index == targets.size()) {
            promise.setSuccess(lastFailure);
            return;
        }
        InetSocketAddress target = targets.get(index);
        long start = System.nanoTime();
        ChannelFuture cf = new Bootstrap()
                .group(loop)
                .channelFactory(transport.connectionsTo(target.getAddress()))
                .option(ChannelOption.AUTO_READ, false) // TCP_NODELAY: Netty's default on Linux
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, Transport.RECEIVE_SIZES)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis()))
                .handler(NO_HANDLER)
                .connect(target);
        cf.addListener(f -> {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (f.isSuccess()) {
                metrics.upstreamConnect(took, "connected");
                Channel ch = cf.channel();
                if (!promise.trySuccess(new UpstreamOutcome.Connected(ch, target, rule))) {
                    ch.close();
                }
                return;
            }
            Throwable cause = f.cause();
            metrics.upstreamConnect(took, cause instanceof ConnectTimeoutException ? "timeout" : "failed");
            String where = target.getAddress().getHostAddress() + ":" + target.getPort();
            UpstreamOutcome.Refused failure = cause instanceof ConnectTimeoutException
                    ? new UpstreamOutcome.Refused(Refusal.CONNECT_TIMEOUT, "connect to " + where + " timed out", target)
                    : new UpstreamOutcome.Refused(Refusal.CONNECT_FAILED, "connect to " + where + " failed: "
                            + shortMessage(cause), target);
            connect(targets, index + 1, rule, loop, promise, failure);
        });
    }

    private static String shortMessage(Throwable t) {
        String m = t.getMessage();
        if (m == null) {
            return t.getClass().getSimpleName();
        }
        // Netty's native messages read "connect(..) failed: Connection refused: /1.2.3.4:443"; keep the reason.
        int colon = m.indexOf("failed: ");
        String reason = colon >= 0 ? m.substring(colon + 8) : m;
        int addr = reason.indexOf(": /");
        return addr >= 0 ? reason.substring(0, addr) : reason;
    }

    @ChannelHandler.Sharable
    private static final class NoHandler extends ChannelHandlerAdapter {
    }
}
