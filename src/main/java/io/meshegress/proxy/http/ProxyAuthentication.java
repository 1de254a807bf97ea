package io.meshegress.proxy.http;

import io.meshegress.identity.ClientIdentity;
import io.meshegress.identity.CredentialVerdict;
import io.meshegress.identity.Credentials;
import io.meshegress.observe.AccessEntry;
import io.meshegress.policy.Principal;
import io.meshegress.policy.Role;
import io.meshegress.policy.Workload;
import io.meshegress.proxy.Downstream;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A request's {@code Proxy-Authorization}, between its head and its route: what the credential is worth
 * ({@link Credentials}), and so which role the request has. A remembered or unreadable credential is answered
 * at once on the event loop; a new one is checked off it, and the request goes on (or is answered 407 or 503) on
 * its own loop when the check is done. The header leaves the request here, before anything could forward it.
 * Without identity.basic and identity.bearer the header is not read at all.
 */
final class ProxyAuthentication {
    private ProxyAuthentication() {
    }

    static void check(ClientConnection conn, HttpListenerContext context, HttpExchange x, Runnable route) {
        Credentials credentials = context.runtime.credentials();
        if (!credentials.configured()) {
            route.run();
            return;
        }
        List<String> values = x.request().headers().getAll(HttpHeaderNames.PROXY_AUTHORIZATION);
        x.request().headers().remove(HttpHeaderNames.PROXY_AUTHORIZATION);
        CompletableFuture<CredentialVerdict> verdict = credentials.check(values, x.downstream().client().getAddress());
        if (verdict.isDone()) {
            decided(conn, context, x, verdict.join(), route);
            return;
        }
        verdict.thenAccept(v -> conn.eventLoop().execute(() -> {
            if (!x.finished() && conn.active()) {
                decided(conn, context, x, v, route);
            }
        }));
    }

    private static void decided(ClientConnection conn, HttpListenerContext context, HttpExchange x, CredentialVerdict v,
                                Runnable route) {
        if (v instanceof CredentialVerdict.Verified good) {
            Principal p = good.principal();
            Role role = context.runtime.routes().role(x.downstream(), p);
            x.record().principal(role.name(), p.logName(), logged(x.downstream(), p));
            x.judgedAs(x.downstream().withRole(role));
            route.run();
        } else if (v instanceof CredentialVerdict.Anonymous) {
            if (context.runtime.routes().needsCredential(x.downstream())) {
                challenge(conn, context, x, "credentials_missing");
            } else {
                route.run();
            }
        } else if (v instanceof CredentialVerdict.Rejected r) {
            challenge(conn, context, x, r.reason());
        } else {
            conn.fail(x, HttpResponseStatus.SERVICE_UNAVAILABLE, ((CredentialVerdict.Unavailable) v).reason(),
                    x.hasBody() || isConnect(x));
        }
    }

    /** 407 with a Proxy-Authenticate per configured scheme; the log has the reason word, the client does not. */
    private static void challenge(ClientConnection conn, HttpListenerContext context, HttpExchange x, String reason) {
        x.challenged(context.runtime.credentials().challenges());
        conn.fail(x, HttpResponseStatus.PROXY_AUTHENTICATION_REQUIRED, reason, x.hasBody() || isConnect(x));
    }

    private static boolean isConnect(HttpExchange x) {
        return io.netty.handler.codec.http.HttpMethod.CONNECT.equals(x.request().method());
    }

    /** A token's account as the log names it, with the connection's pod where that pod runs as this account. */
    private static AccessEntry.Workload logged(Downstream d, Principal p) {
        if (!(p instanceof Principal.ServiceAccount sa)) {
            return null;
        }
        Workload token = sa.workload();
        String pod = null;
        if (d.identity() instanceof ClientIdentity.Pod at && at.workload().namespace().equals(token.namespace())
                && at.workload().serviceAccount().equals(token.serviceAccount())) {
            pod = at.workload().pod();
        }
        return new AccessEntry.Workload(token.namespace(), token.serviceAccount(), pod);
    }
}
