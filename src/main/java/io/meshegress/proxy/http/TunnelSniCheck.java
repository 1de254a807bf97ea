package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.ClientHelloExtensions;
import io.meshegress.proxy.LingeringClose;
import io.meshegress.proxy.TlsAlert;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import java.util.Optional;

/**
 * {@code http.connectSniCheck}: the first bytes of a CONNECT tunnel, when they are a TLS ClientHello, must name
 * the host the CONNECT named (case and a trailing dot aside). Otherwise a client allowed to reach one name on a
 * shared front end could ask it for another (domain fronting); the tunnel ends with a TLS alert and the log says
 * {@code sni_mismatch}. A ClientHello with Encrypted Client Hello is counted, and refused with
 * {@code http.echPolicy: refuse}. Bytes that are not TLS, and a ClientHello without server_name, pass unchanged.
 * Sits before the relay; once it has decided it leaves, handing on what it held.
 */
final class TunnelSniCheck extends AbstractSniHandler<Boolean> {
    static final String NAME = "connect-sni-check";
    static final int MAX_CLIENT_HELLO = 64 * 1024;

    private final String connectHost;
    private final EgressConfig.EchPolicy echPolicy;
    private final ConnectionRecord record;
    private final Channel upstream;
    private final HttpListenerContext context;
    private boolean tls;
    private boolean ech;

    TunnelSniCheck(String connectHost, HttpListenerContext context, ConnectionRecord record, Channel upstream) {
        // No deadline of its own: a tunnel whose client speaks second (SSH, SMTP) may be silent at first, and
        // silence is timeouts.idle's business. The ClientHello is bounded in size, as on the SNI listener.
        super(MAX_CLIENT_HELLO, 0L);
        this.connectHost = connectHost;
        this.echPolicy = context.listener.echPolicy();
        this.context = context;
        this.record = record;
        this.upstream = upstream;
    }

    @Override
    protected Future<Boolean> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        tls = clientHello != null;
        ech = tls && ClientHelloExtensions.has(clientHello, ClientHelloExtensions.ENCRYPTED_CLIENT_HELLO);
        return super.lookup(ctx, clientHello);
    }

    @Override
    protected Future<Boolean> lookup(ChannelHandlerContext ctx, String hostname) {
        return ctx.executor().newSucceededFuture(Boolean.TRUE);
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<Boolean> future) {
        if (ech) {
            context.runtime.metrics().encryptedClientHello(context.listenerName,
                    echPolicy == EgressConfig.EchPolicy.REFUSE ? "refused" : "allowed");
            if (echPolicy == EgressConfig.EchPolicy.REFUSE) {
                refuse(ctx, "encrypted_client_hello refused by http.echPolicy (the tunnel's real server name "
                        + "would be hidden)");
                return;
            }
        }
        if (tls && hostname != null) {
            Optional<String> named = HostPattern.normalizeHost(hostname);
            if (named.isEmpty() || !named.get().equals(connectHost)) {
                refuse(ctx, "sni_mismatch: the tunnel's ClientHello names " + named.orElse("an invalid name")
                        + ", the CONNECT named " + connectHost + " (http.connectSniCheck)");
                return;
            }
        }
        ctx.pipeline().remove(this); // hands what it held on to the relay
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        record.refused(reason, 403, TlsAlert.ACCESS_DENIED.alertName());
        upstream.close();
        LingeringClose.after(ctx.writeAndFlush(TlsAlert.ACCESS_DENIED.record(ctx.alloc())));
    }
}
