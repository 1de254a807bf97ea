package io.meshegress.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.meshegress.text.Quote;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a request head and trailer must satisfy beyond Netty's decoder before anything is routed or forwarded.
 * Each rule closes a way for two parties (this proxy and the origin, or policy and routing) to read one
 * message differently. Pure: no sockets.
 */
final class MessageChecks {
    /** A request the proxy will not act on: the status to answer and the one-line reason. */
    record Problem(HttpResponseStatus status, String reason) {
    }

    /**
     * Fields that may not arrive in a trailer (RFC 9110 section 6.5.1): framing, routing, connection control
     * and authentication. A trailer comes after the proxy judged and routed the head, so any of these there
     * would be a second, unchecked answer to a question already decided.
     */
    private static final List<AsciiString> NOT_IN_TRAILERS = List.of(HttpHeaderNames.HOST,
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.TRAILER,
            HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE, HttpHeaderNames.TE, HttpHeaderNames.KEEP_ALIVE,
            AsciiString.cached("proxy-connection"), HttpHeaderNames.EXPECT, HttpHeaderNames.AUTHORIZATION,
            HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.CONTENT_TYPE,
            HttpHeaderNames.CONTENT_RANGE, HttpHeaderNames.MAX_FORWARDS);

    private MessageChecks() {
    }

    /** The first problem of a decoded request head, if any. */
    static Optional<Problem> head(HttpRequest request) {
        HttpVersion v = request.protocolVersion();
        if (!"HTTP".equals(v.protocolName()) || v.majorVersion() != 1 || v.minorVersion() > 1) {
            return Optional.of(new Problem(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
                    "HTTP version " + Quote.shortly(v.text()) + " is not supported (HTTP/1.0 and HTTP/1.1 only)"));
        }
        Iterator<? extends CharSequence> hosts = request.headers().valueCharSequenceIterator(HttpHeaderNames.HOST);
        if (hosts.hasNext() && hosts.next() != null && hosts.hasNext()) {
            // RFC 9112 section 3.2: policy would judge one Host and an origin might route by the other.
            return Optional.of(new Problem(HttpResponseStatus.BAD_REQUEST, "more than one Host header"));
        }
        return Optional.empty();
    }

    /** The name of the first field a trailer may not carry, if it carries one. */
    static Optional<String> forbiddenInTrailer(HttpHeaders trailers) {
        if (trailers.isEmpty()) {
            return Optional.empty();
        }
        for (Map.Entry<String, String> e : trailers) {
            for (AsciiString name : NOT_IN_TRAILERS) {
                if (name.contentEqualsIgnoreCase(e.getKey())) {
                    return Optional.of(name.toString());
                }
            }
        }
        return Optional.empty();
    }
}
