package io.meshegress.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A routed request as it goes upstream: origin-form target, {@code Host} from an absolute URI's authority
 * (RFC 9112 section 3.2.2), hop-by-hop headers removed, HTTP/1.1. Pure, so the fuzz test checks exactly what
 * the listener sends: that it decodes at the origin to the request and the route the policy judged.
 */
final class ForwardedRequest {
    private ForwardedRequest() {
    }

    /** Rewrites {@code req} in place for {@code target}; true when it asks to upgrade (kept through hygiene). */
    static boolean rewrite(HttpRequest req, RequestTarget target) {
        boolean upgrade = HeaderHygiene.isUpgrade(req.headers());
        req.setUri(target.path());
        if (target.absolute()) {
            req.headers().set(HttpHeaderNames.HOST, target.authority());
        }
        HeaderHygiene.strip(req.headers(), upgrade);
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        return upgrade;
    }
}
