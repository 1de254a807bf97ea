package io.meshegress.proxy.http;

import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.Downstream;
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
 * One request and its response on the HTTP listener. Its state is its own: the connection, the tunnel and the
 * forwarder ask it questions and tell it what happened (the methods below are named for those events), and it
 * moves its named states accordingly; nothing else writes them. Confined to the client's event loop, like
 * everything of a client connection.
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

    /** What the request asks of the proxy, as far as it is known. */
    enum Kind {
        /** Forwarded request and response (the kind until routing says otherwise). */
        FORWARD,
        /** Forwarded, asking the origin to switch protocols: a 101 makes it a tunnel. */
        UPGRADE,
        /** A routed CONNECT: what follows the head is tunnel bytes, held until the upstream is there. */
        TUNNEL
    }

    /** Which upstream connection serves the exchange. */
    enum UpstreamState {
        /** None yet (being opened, or the request was never forwarded). */
        NONE,
        /** A kept-alive one from the pool: if it turns out closed before answering, one fresh try. */
        POOLED,
        /** One opened for this exchange (first or after the pooled one failed): no more tries. */
        OPENED
    }

    /** What becomes of a connection once the exchange is over. */
    enum After {
        /** The connection serves another exchange (the upstream: back to the pool). */
        KEEP,
        CLOSE
    }

    /** Whether the exchange is still the connection's business. */
    enum Lifecycle {
        UNDER_WAY,
        /** Logged; its upstream returned or closed. */
        FINISHED,
        /** Both connections went to the relay (a CONNECT tunnel or a 101); logged when the relay ends. */
        HANDED_TO_RELAY
    }

    private final HttpRequest request;
    private final ConnectionRecord record;
    private final boolean isHead;
    private final boolean keepAliveClient;
    private final boolean clientHttp10;
    private final boolean hasBody;
    private final List<Object> waiting = new ArrayList<>(2);
    private RequestState requestState = RequestState.RECEIVING;
    private ResponseState responseState = ResponseState.AWAITED;
    private Kind kind = Kind.FORWARD;
    private UpstreamState upstreamState = UpstreamState.NONE;
    private After upstreamAfter = After.CLOSE;
    private After clientAfter = After.KEEP;
    private Lifecycle lifecycle = Lifecycle.UNDER_WAY;
    private RequestTarget target;
    private Route.Allowed route;
    private String poolKey;
    private Channel upstream;
    /** The connection as this request is judged: its role by address or pod, or the one its credential selects. */
    private Downstream downstream;
    /** The Proxy-Authenticate values of a 407 answer (empty: none). */
    private List<String> challenges = List.of();

    HttpExchange(HttpRequest request, ConnectionRecord record) {
        this.request = request;
        this.record = record;
        this.isHead = HttpMethod.HEAD.equals(request.method());
        this.keepAliveClient = HttpUtil.isKeepAlive(request);
        this.clientHttp10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
        this.hasBody = HttpUtil.isTransferEncodingChunked(request) || contentLength(request) > 0;
    }

    // ---- what it is -------------------------------------------------------------------------------

    HttpRequest request() {
        return request;
    }

    ConnectionRecord record() {
        return record;
    }

    boolean isHead() {
        return isHead;
    }

    boolean keepAliveClient() {
        return keepAliveClient;
    }

    boolean clientHttp10() {
        return clientHttp10;
    }

    boolean hasBody() {
        return hasBody;
    }

    RequestTarget target() {
        return target;
    }

    Route.Allowed route() {
        return route;
    }

    /** The pool's key for the upstream of this request's target, once it is routed. */
    String poolKey() {
        return poolKey;
    }

    Channel upstream() {
        return upstream;
    }

    Downstream downstream() {
        return downstream;
    }

    /** The request is judged as {@code d}: its connection, or with the role its credential selected. */
    void judgedAs(Downstream d) {
        this.downstream = d;
    }

    List<String> challenges() {
        return challenges;
    }

    /** The answer is a 407 with these challenges. */
    void challenged(List<String> values) {
        this.challenges = List.copyOf(values);
    }

    // ---- where it stands ----------------------------------------------------------------------------

    RequestState requestState() {
        return requestState;
    }

    ResponseState responseState() {
        return responseState;
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

    boolean tunnel() {
        return kind == Kind.TUNNEL;
    }

    boolean upgrade() {
        return kind == Kind.UPGRADE;
    }

    boolean finished() {
        return lifecycle != Lifecycle.UNDER_WAY;
    }

    /** The client connection ends once this exchange is over. */
    boolean closesClient() {
        return clientAfter == After.CLOSE;
    }

    /** The upstream may serve another request: the response said so and all of the request went up. */
    boolean upstreamReusable() {
        return upstreamAfter == After.KEEP && requestDone();
    }

    /** Over once the answer is complete and the request is in (or will not be read: the client closes). */
    boolean readyToEnd() {
        return responseDone() && (requestDone() || closesClient());
    }

    // ---- the request ----------------------------------------------------------------------------------

    /** The head named where it goes. */
    void targeted(RequestTarget t) {
        this.target = t;
    }

    /** The route table allowed a forwarded request; {@code upgrade}: it asks the origin to switch protocols. */
    void routed(Route.Allowed allowed, boolean upgrade) {
        this.route = allowed;
        this.kind = upgrade ? Kind.UPGRADE : Kind.FORWARD;
        this.poolKey = target.host() + ":" + target.port();
    }

    /** The route table allowed a CONNECT: its head is all of the request, and what follows is tunnel bytes. */
    void tunnelRouted() {
        this.kind = Kind.TUNNEL;
        this.requestState = RequestState.RECEIVED;
    }

    /** The last of the body arrived. */
    void requestEnded() {
        requestState = RequestState.RECEIVED;
    }

    /**
     * The body broke off (malformed, or a forbidden trailer): nothing more of it is read and the upstream has a
     * broken request. A response under way cannot be finished honestly: it ends here, and so does the client
     * connection.
     */
    void requestBroke() {
        requestState = RequestState.RECEIVED;
        upstreamAfter = After.CLOSE;
        if (responseStarted()) {
            responseState = ResponseState.DONE;
            clientAfter = After.CLOSE;
        }
    }

    /** Kept until the upstream is there (body content, or tunnel bytes behind a CONNECT head). */
    void hold(Object msg) {
        waiting.add(msg);
    }

    /** What was held, in order, now the upstream takes it; the exchange holds nothing after. */
    List<Object> takeHeld() {
        List<Object> held = new ArrayList<>(waiting);
        waiting.clear();
        return held;
    }

    /** Drops what was kept for an upstream that will not take it. */
    void releaseHeld() {
        for (Object o : waiting) {
            ReferenceCountUtil.release(o);
        }
        waiting.clear();
    }

    // ---- the upstream -----------------------------------------------------------------------------------

    /** An upstream connection serves it now: one from the pool, or one opened for it. */
    void upstreamAttached(Channel ch, boolean pooled) {
        this.upstream = ch;
        this.upstreamState = pooled ? UpstreamState.POOLED : UpstreamState.OPENED;
    }

    /** Whatever the response says, the upstream connection is closed after this exchange. */
    void upstreamUnusable() {
        upstreamAfter = After.CLOSE;
    }

    /**
     * The upstream closed before answering. A pooled connection the origin closed just as it was reused earns one
     * fresh try (only for a request without a body, which is all still here to send again): true, and the
     * exchange has no upstream until the new one is attached.
     */
    boolean retryOnFreshUpstream() {
        upstreamAfter = After.CLOSE;
        if (upstreamState != UpstreamState.POOLED || responseStarted() || hasBody) {
            return false;
        }
        upstreamState = UpstreamState.NONE;
        upstream = null;
        return true;
    }

    // ---- the response -----------------------------------------------------------------------------------

    /** A 1xx head went out to the client. */
    void interimStarted() {
        responseState = ResponseState.INTERIM;
    }

    /** The 1xx ended: the final response is awaited again. */
    void interimEnded() {
        responseState = ResponseState.AWAITED;
    }

    /** The final head goes out, framed as planned: what becomes of both connections is decided with it. */
    void finalHeadSent(ResponseFraming.Plan plan) {
        responseState = ResponseState.STREAMING;
        upstreamAfter = plan.reuseUpstream() ? After.KEEP : After.CLOSE;
        clientAfter = plan.closeClient() ? After.CLOSE : After.KEEP;
    }

    /**
     * The last of the response went to the client. If the origin answered before the whole request body arrived,
     * neither connection can serve another exchange (the rest of the body is still on its way).
     */
    void responseEnded() {
        responseState = ResponseState.DONE;
        if (!requestDone()) {
            upstreamAfter = After.CLOSE;
            clientAfter = After.CLOSE;
        }
    }

    /** The upstream failed after the head went out: the only honest signal left is to end the connection early. */
    void responseBroke() {
        upstreamAfter = After.CLOSE;
        responseState = ResponseState.DONE;
        clientAfter = After.CLOSE;
    }

    /**
     * The proxy answered itself (an error status) instead of the origin; with {@code closeClient} the connection
     * ends after it, and nothing more of the request is read.
     */
    void answeredByProxy(boolean closeClient) {
        responseState = ResponseState.DONE;
        if (closeClient) {
            clientAfter = After.CLOSE;
        }
        if (clientAfter == After.CLOSE) {
            requestState = RequestState.RECEIVED;
        }
    }

    /** The origin switched protocols (101): the answer is complete, and the relay takes both connections. */
    void protocolsSwitched() {
        responseState = ResponseState.DONE;
    }

    /** The client connection closed under the exchange. */
    void clientGone() {
        clientAfter = After.CLOSE;
        upstreamAfter = After.CLOSE;
        responseState = ResponseState.DONE;
    }

    // ---- its end ----------------------------------------------------------------------------------------

    /** The connection is done with it: true the first time, false when it had ended already. */
    boolean finish() {
        if (lifecycle != Lifecycle.UNDER_WAY) {
            return false;
        }
        lifecycle = Lifecycle.FINISHED;
        return true;
    }

    /** Both connections go to the relay, which logs the record when the tunnel ends. */
    void handedToRelay() {
        lifecycle = Lifecycle.HANDED_TO_RELAY;
    }

    private static long contentLength(HttpRequest r) {
        try {
            return HttpUtil.getContentLength(r, 0L);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
