package io.meshegress.proxy.http;

import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.Route;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * One request and its response on the HTTP listener, each side with a named state. Confined to the client's
 * event loop, like everything of a client connection.
 */
final class HttpExchange {

    /** Where the client's request stands. */
    enum RequestState {
        /** The head arrived; body content may still come. */
        RECEIVING,
        /** All of it arrived (or will never be read: the exchange ended early). */
        RECEIVED
    }

    /** Where the answer to the client stands. */
    enum ResponseState {
        /** Nothing sent yet. */
        AWAITED,
        /** A 1xx head went out; its end and then the final response are still to come. */
        INTERIM,
        /** The final head went out; the body is flowing. */
        STREAMING,
        /** Complete: the last content, an error response, a switch to a tunnel, or the client gone. */
        DONE
    }

    final HttpRequest request;
    final ConnectionRecord record;
    final boolean isHead;
    final boolean keepAliveClient;
    final boolean clientHttp10;
    final boolean hasBody;
    RequestState requestState = RequestState.RECEIVING;
    ResponseState responseState = ResponseState.AWAITED;
    RequestTarget target;
    /** The route the listener was allowed; opened at most once (a pooled upstream may serve it instead). */
    Route.Allowed route;
    String poolKey;
    /** A CONNECT: what follows the head is tunnel bytes, kept in {@link #waiting} until the upstream is there. */
    boolean connect;
    boolean upgrade;
    Channel upstream;
    /** The upstream came from the pool (so one retry on a fresh connection is allowed). */
    boolean reused;
    boolean retried;
    boolean upstreamReusable;
    boolean closeAfter;
    boolean finished;
    final List<Object> waiting = new ArrayList<>(2);

    HttpExchange(HttpRequest request, ConnectionRecord record) {
        this.request = request;
        this.record = record;
        this.isHead = HttpMethod.HEAD.equals(request.method());
        this.keepAliveClient = HttpUtil.isKeepAlive(request);
        this.clientHttp10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
        this.hasBody = HttpUtil.isTransferEncodingChunked(request) || contentLength(request) > 0;
    }

    boolean requestDone() {
        return requestState == RequestState.RECEIVED;
    }

    /** The final response head went out (or the exchange is over). */
    boolean responseStarted() {
        return responseState == ResponseState.STREAMING || responseState == ResponseState.DONE;
    }

    boolean responseDone() {
        return responseState == ResponseState.DONE;
    }

    boolean interim() {
        return responseState == ResponseState.INTERIM;
    }

    /** Drops what was kept for an upstream that will not take it. */
    void releaseWaiting() {
        for (Object o : waiting) {
            ReferenceCountUtil.release(o);
        }
        waiting.clear();
    }

    private static long contentLength(HttpRequest r) {
        try {
            return HttpUtil.getContentLength(r, 0L);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
