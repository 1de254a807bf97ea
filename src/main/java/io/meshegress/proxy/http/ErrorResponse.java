package io.meshegress.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The proxy's own answers: a status and a one-line reason, the same words the access log records. */
final class ErrorResponse {
    private ErrorResponse() {
    }

    static FullHttpResponse of(HttpResponseStatus status, String reason, boolean close) {
        return of(status, reason, close, java.util.List.of());
    }

    /**
     * With {@code challenges}, a 407: its {@code Proxy-Authenticate} values, and a body that says only that a
     * credential is wanted (the log's reason, unknown user or wrong password, would tell a guesser which users
     * exist).
     */
    static FullHttpResponse of(HttpResponseStatus status, String reason, boolean close,
                               java.util.List<String> challenges) {
        String said = challenges.isEmpty() ? reason : "proxy authentication required";
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer("mesh-egress: " + said.replace('\n', ' ') + "\n", StandardCharsets.UTF_8));
        for (String c : challenges) {
            r.headers().add(HttpHeaderNames.PROXY_AUTHENTICATE, c);
        }
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.VIA, HeaderHygiene.VIA);
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
