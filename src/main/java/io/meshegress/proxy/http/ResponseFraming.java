package io.meshegress.proxy.http;

/**
 * How one response head is passed on, and what happens to both connections after it: the rules of RFC 9112
 * sections 6 and 9 for a proxy in one pure function, so every combination is a unit test rather than a path
 * through the listener.
 */
final class ResponseFraming {

    /** What the client asked, as far as framing is concerned. */
    record Request(boolean http10, boolean keepAlive, boolean head, boolean upgrade) {
    }

    /** What the upstream answered, as far as framing is concerned. */
    record Response(int status, boolean keepAlive, boolean contentLength, boolean chunked) {
    }

    /** What kind of head it is. */
    enum Kind {
        /** 101 to a request that asked to upgrade: both connections become a tunnel. */
        SWITCH,
        /** Another 1xx (100 Continue, 103 Early Hints): passed on; the final response is still to come. */
        INTERIM,
        /** The final response. */
        FINAL
    }

    /** How the body reaches the client. */
    enum Body {
        /** No body (HEAD, 204, 304, or not a final response). */
        NONE,
        /** As the upstream framed it (Content-Length or chunked). */
        AS_FRAMED,
        /** The upstream ends it by closing; the proxy chunks it so a 1.1 client keeps its connection. */
        CHUNKED_BY_PROXY,
        /** The upstream ends it by closing and so does the proxy (a 1.0 or closing client). */
        UNTIL_CLOSE
    }

    /** The Connection header the client gets. */
    enum ConnectionHeader { NONE, CLOSE, KEEP_ALIVE }

    record Plan(Kind kind, Body body, boolean closeClient, boolean reuseUpstream, ConnectionHeader header) {
    }

    private ResponseFraming() {
    }

    /**
     * @param clientClosing the client connection ends after this exchange whatever the response says (the
     *                      client half-closed, the proxy is draining, or an earlier rule decided it)
     */
    static Plan plan(Request request, Response response, boolean clientClosing) {
        int code = response.status();
        if (code == 101 && request.upgrade()) {
            return new Plan(Kind.SWITCH, Body.NONE, false, false, ConnectionHeader.NONE);
        }
        if (code >= 100 && code < 200) {
            return new Plan(Kind.INTERIM, Body.NONE, false, false, ConnectionHeader.NONE);
        }
        boolean bodyless = request.head() || code == 204 || code == 304;
        boolean framed = response.contentLength() || response.chunked();
        boolean reuseUpstream = response.keepAlive() && (framed || bodyless);
        Body body;
        boolean closeClient = clientClosing || !request.keepAlive();
        if (bodyless) {
            body = Body.NONE;
        } else if (framed) {
            body = Body.AS_FRAMED;
        } else if (request.keepAlive() && !request.http10()) {
            body = Body.CHUNKED_BY_PROXY;
        } else {
            body = Body.UNTIL_CLOSE;
            closeClient = true;
        }
        ConnectionHeader header = closeClient ? ConnectionHeader.CLOSE
                : request.http10() ? ConnectionHeader.KEEP_ALIVE : ConnectionHeader.NONE;
        return new Plan(Kind.FINAL, body, closeClient, reuseUpstream, header);
    }
}
