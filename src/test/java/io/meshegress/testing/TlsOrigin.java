package io.meshegress.testing;

import io.netty.handler.ssl.SslContextBuilder;

/**
 * An HTTPS origin for tests (TLS terminated here, never in the proxy): {@link HttpOrigin}'s endpoints behind a
 * certificate for {@code *.qq.test}. {@code GET /hello} names this origin and the SNI it received.
 */
public final class TlsOrigin implements AutoCloseable {
    private final HttpOrigin origin;

    public TlsOrigin(String host, int port, TestPki pki) throws Exception {
        this.origin = new HttpOrigin(host, port, SslContextBuilder.forServer(pki.serverKeyManagers()).build());
    }

    public int connections() {
        return origin.connections();
    }

    @Override
    public void close() {
        origin.close();
    }
}
