package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessLog;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.UpstreamConnector;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/** What every connection of one HTTP listener shares: config, the spine, the access log, per-loop pools. */
final class HttpListenerContext {
    /** How long a kept-alive upstream connection may wait in the pool for its next request. */
    static final Duration POOL_IDLE = Duration.ofSeconds(60);

    final EgressConfig.HttpListener listener;
    final String listenerName;
    final Admission admission;
    final UpstreamConnector connector;
    final EgressConfig.Timeouts timeouts;
    final AccessLog accessLog;
    private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();

    HttpListenerContext(EgressConfig.HttpListener listener, Admission admission, UpstreamConnector connector,
                        EgressConfig.Timeouts timeouts, AccessLog accessLog) {
        this.listener = listener;
        this.admission = admission;
        this.listenerName = "http " + listener.listen();
        this.connector = connector;
        this.timeouts = timeouts;
        this.accessLog = accessLog;
    }

    /** The pool of the loop a client connection lives on; only that loop touches it. */
    UpstreamPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, l -> new UpstreamPool(
                timeouts.idle().compareTo(POOL_IDLE) < 0 ? timeouts.idle() : POOL_IDLE));
    }
}
