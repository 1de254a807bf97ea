package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessLog;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.UpstreamConnector;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every connection of the HTTP listener shares under one config: its settings, the spine, the access
 * log, and per-loop pools of upstream connections (new pools per config, so a pooled connection that an older
 * policy admitted is never reused under a newer one).
 */
public final class HttpListenerContext {
    /** How long a kept-alive upstream connection may wait in the pool for its next request. */
    static final Duration POOL_IDLE = Duration.ofSeconds(60);

    final EgressConfig.HttpListener listener;
    final String listenerName;
    final ProxyRuntime runtime;
    final Admission admission;
    final UpstreamConnector connector;
    final EgressConfig.Timeouts timeouts;
    final AccessLog accessLog;
    final MeshHeaderFilter meshHeaders;
    private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();

    public HttpListenerContext(EgressConfig.HttpListener listener, ProxyRuntime runtime, Admission admission,
                               AccessLog accessLog) {
        this.listener = listener;
        this.listenerName = "http " + listener.listen();
        this.runtime = runtime;
        this.admission = admission;
        this.connector = runtime.connector();
        this.timeouts = runtime.config().timeouts();
        this.accessLog = accessLog;
        this.meshHeaders = new MeshHeaderFilter(listener.meshHeaders());
    }

    /** The pool of the loop a client connection lives on; only that loop touches it. */
    UpstreamPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, l -> new UpstreamPool(l,
                timeouts.idle().compareTo(POOL_IDLE) < 0 ? timeouts.idle() : POOL_IDLE));
    }
}
