package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.identity.ClientIdentity;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.Route;
import io.meshegress.proxy.RouteTable;
import io.meshegress.proxy.UpstreamConnector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The exchange's state machine on its own: each event the connection, the tunnel and the forwarder report, and
 * what the exchange then says about itself. Expectations for what a request means come from RFC 9112 (message
 * body: section 6; persistence: section 9.3); what follows each event, from the states' documented meaning.
 */
class HttpExchangeTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.5", 40000);
    private static final ResponseFraming.Plan KEEP_BOTH = new ResponseFraming.Plan(ResponseFraming.Kind.FINAL,
            ResponseFraming.Body.AS_FRAMED, false, true, ResponseFraming.ConnectionHeader.NONE);
    private static final ResponseFraming.Plan CLOSE_BOTH = new ResponseFraming.Plan(ResponseFraming.Kind.FINAL,
            ResponseFraming.Body.UNTIL_CLOSE, true, false, ResponseFraming.ConnectionHeader.CLOSE);

    private final List<Object> logged = new ArrayList<>();

    private HttpExchange exchange(HttpVersion version, HttpMethod method, String... headers) {
        HttpRequest r = new DefaultHttpRequest(version, method, "http://www.qq.test/");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return new HttpExchange(r, new ConnectionRecord(logged::add, "http 127.0.0.2:8080", "http", CLIENT,
                "default", null));
    }

    private HttpExchange get() {
        return exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, "host", "www.qq.test");
    }

    private HttpExchange post() {
        return exchange(HttpVersion.HTTP_1_1, HttpMethod.POST, "host", "www.qq.test", "content-length", "5");
    }

    private static Route.Allowed allowedRoute() throws Exception {
        EgressConfig c = ConfigLoader.parse("x.yaml", """
                http:
                  listen: "127.0.0.2:8080"
                policy:
                  allow: ["*.qq.test"]
                """);
        RouteTable routes = new RouteTable(c);
        Downstream d = new Downstream(CLIENT, "http 127.0.0.2:8080", "http",
                routes.role(CLIENT.getAddress(), ClientIdentity.NO_POD), ClientIdentity.NO_POD, null, 0);
        // route() only asks the route table: no resolver, transport or metrics are touched.
        Route r = new UpstreamConnector(routes, null, null, c.timeouts(), null)
                .route(new Destination("www.qq.test", 80, Destination.Kind.HTTP, d));
        return (Route.Allowed) r;
    }

    @Test
    void whatTheRequestHeadSaysPerRfc9112() {
        HttpExchange get11 = get();
        assertThat(get11.keepAliveClient()).isTrue(); // 9.3: HTTP/1.1 persists unless "close"
        assertThat(get11.hasBody()).isFalse(); // 6.3: neither Content-Length nor Transfer-Encoding: no body
        assertThat(exchange(HttpVersion.HTTP_1_0, HttpMethod.GET).keepAliveClient()).isFalse(); // 9.3: 1.0 closes
        assertThat(exchange(HttpVersion.HTTP_1_0, HttpMethod.GET, "connection", "keep-alive").keepAliveClient())
                .isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.GET, "connection", "close").keepAliveClient())
                .isFalse();
        assertThat(post().hasBody()).isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.POST, "transfer-encoding", "chunked").hasBody())
                .isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_1, HttpMethod.HEAD).isHead()).isTrue();
        assertThat(exchange(HttpVersion.HTTP_1_0, HttpMethod.GET).clientHttp10()).isTrue();
    }

    @Test
    void aNewExchangeAwaitsEverythingAndKeepsTheClient() {
        HttpExchange x = get();
        assertThat(x.requestState()).isEqualTo(HttpExchange.RequestState.RECEIVING);
        assertThat(x.responseState()).isEqualTo(HttpExchange.ResponseState.AWAITED);
        assertThat(x.finished()).isFalse();
        assertThat(x.tunnel()).isFalse();
        assertThat(x.upgrade()).isFalse();
        assertThat(x.closesClient()).isFalse();
        assertThat(x.upstreamReusable()).isFalse(); // nothing said the upstream may be kept yet
        assertThat(x.readyToEnd()).isFalse();
    }

    private HttpExchange routedGet() throws Exception {
        HttpExchange x = get();
        x.targeted(RequestTarget.parse(HttpMethod.GET, "http://www.qq.test/", "www.qq.test"));
        x.routed(allowedRoute(), false);
        return x;
    }

    @Test
    void aKeptAliveExchangeEndsWithBothConnectionsKept() throws Exception {
        HttpExchange x = routedGet();
        assertThat(x.poolKey()).isEqualTo("www.qq.test:80");
        assertThat(x.route().rule()).isEqualTo("policy.allow[0] \"*.qq.test\"");
        EmbeddedChannel upstream = new EmbeddedChannel();
        x.upstreamAttached(upstream, false);
        assertThat(x.upstream()).isSameAs(upstream);
        x.requestEnded();
        assertThat(x.readyToEnd()).isFalse();
        x.finalHeadSent(KEEP_BOTH);
        assertThat(x.responseState()).isEqualTo(HttpExchange.ResponseState.STREAMING);
        assertThat(x.responseStarted()).isTrue();
        assertThat(x.readyToEnd()).isFalse();
        x.responseEnded();
        assertThat(x.readyToEnd()).isTrue();
        assertThat(x.upstreamReusable()).isTrue();
        assertThat(x.closesClient()).isFalse();
        assertThat(x.finish()).isTrue();
        assertThat(x.finished()).isTrue();
        assertThat(x.finish()).as("an exchange ends once").isFalse();
        upstream.finishAndReleaseAll();
    }

    @Test
    void anAnswerBeforeTheWholeBodyClosesBothConnections() throws Exception {
        HttpExchange x = post();
        x.finalHeadSent(KEEP_BOTH);
        x.responseEnded();
        assertThat(x.requestState()).isEqualTo(HttpExchange.RequestState.RECEIVING);
        assertThat(x.closesClient()).isTrue();
        assertThat(x.upstreamReusable()).isFalse();
        assertThat(x.readyToEnd()).as("the rest of the body is not waited for").isTrue();
    }

    @Test
    void theFramingPlanDecidesWhatBecomesOfBothConnections() {
        HttpExchange x = get();
        x.requestEnded();
        x.finalHeadSent(CLOSE_BOTH);
        x.responseEnded();
        assertThat(x.closesClient()).isTrue();
        assertThat(x.upstreamReusable()).isFalse();
    }

    @Test
    void anInterimResponseIsFollowedByTheFinalOne() {
        HttpExchange x = get();
        x.interimStarted();
        assertThat(x.interim()).isTrue();
        assertThat(x.responseStarted()).isFalse();
        x.interimEnded();
        assertThat(x.responseState()).isEqualTo(HttpExchange.ResponseState.AWAITED);
    }

    @Test
    void aPooledUpstreamClosedBeforeAnsweringEarnsOneFreshTry() throws Exception {
        HttpExchange x = routedGet();
        EmbeddedChannel pooled = new EmbeddedChannel();
        x.upstreamAttached(pooled, true);
        assertThat(x.retryOnFreshUpstream()).isTrue();
        assertThat(x.upstream()).isNull();
        EmbeddedChannel fresh = new EmbeddedChannel();
        x.upstreamAttached(fresh, false);
        assertThat(x.retryOnFreshUpstream()).as("one try only").isFalse();
        assertThat(x.upstream()).isSameAs(fresh);
        pooled.finishAndReleaseAll();
        fresh.finishAndReleaseAll();
    }

    @Test
    void noFreshTryForABodyOrAfterTheResponseStarted() {
        HttpExchange withBody = post();
        EmbeddedChannel a = new EmbeddedChannel();
        withBody.upstreamAttached(a, true);
        assertThat(withBody.retryOnFreshUpstream()).as("the body went up already").isFalse();
        HttpExchange started = get();
        EmbeddedChannel b = new EmbeddedChannel();
        started.upstreamAttached(b, true);
        started.finalHeadSent(KEEP_BOTH);
        assertThat(started.retryOnFreshUpstream()).isFalse();
        assertThat(started.upstreamReusable()).isFalse();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void aBrokenBodyEndsAResponseUnderWayAndTheClientConnection() {
        HttpExchange x = post();
        x.finalHeadSent(KEEP_BOTH);
        x.requestBroke();
        assertThat(x.responseDone()).isTrue();
        assertThat(x.closesClient()).isTrue();
        assertThat(x.upstreamReusable()).isFalse();
        assertThat(x.readyToEnd()).isTrue();
    }

    @Test
    void aBrokenBodyBeforeTheResponseLeavesTheAnswerToTheProxy() {
        HttpExchange x = post();
        x.requestBroke();
        assertThat(x.requestDone()).isTrue();
        assertThat(x.responseState()).isEqualTo(HttpExchange.ResponseState.AWAITED);
        x.answeredByProxy(true);
        assertThat(x.readyToEnd()).isTrue();
        assertThat(x.closesClient()).isTrue();
    }

    @Test
    void anErrorAnswerOnAKeptConnectionStillReadsTheRestOfTheRequest() {
        HttpExchange x = post();
        x.answeredByProxy(false);
        assertThat(x.responseDone()).isTrue();
        assertThat(x.closesClient()).isFalse();
        assertThat(x.requestState()).isEqualTo(HttpExchange.RequestState.RECEIVING);
        assertThat(x.readyToEnd()).isFalse();
        x.requestEnded();
        assertThat(x.readyToEnd()).isTrue();
    }

    @Test
    void anErrorAnswerThatClosesReadsNothingMore() {
        HttpExchange x = post();
        x.answeredByProxy(true);
        assertThat(x.requestDone()).isTrue();
        assertThat(x.readyToEnd()).isTrue();
    }

    @Test
    void aBrokenResponseAfterItsHeadClosesBoth() {
        HttpExchange x = get();
        x.requestEnded();
        x.finalHeadSent(KEEP_BOTH);
        x.responseBroke();
        assertThat(x.readyToEnd()).isTrue();
        assertThat(x.closesClient()).isTrue();
        assertThat(x.upstreamReusable()).isFalse();
    }

    @Test
    void anUnusableUpstreamIsClosedWhateverTheResponseSays() {
        HttpExchange x = get();
        x.requestEnded();
        x.finalHeadSent(KEEP_BOTH);
        x.upstreamUnusable();
        x.responseEnded();
        assertThat(x.upstreamReusable()).isFalse();
        assertThat(x.closesClient()).isFalse();
    }

    @Test
    void theClientGoingAwayEndsEverything() {
        HttpExchange x = post();
        x.finalHeadSent(KEEP_BOTH);
        x.clientGone();
        assertThat(x.readyToEnd()).isTrue();
        assertThat(x.closesClient()).isTrue();
        assertThat(x.upstreamReusable()).isFalse();
    }

    @Test
    void aRoutedConnectHasAllOfItsRequestAndHoldsTunnelBytesInOrder() {
        HttpExchange x = exchange(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "host", "www.qq.test:443");
        x.tunnelRouted();
        assertThat(x.tunnel()).isTrue();
        assertThat(x.requestDone()).isTrue();
        ByteBuf first = Unpooled.copiedBuffer(new byte[] {22, 3, 1});
        ByteBuf second = Unpooled.copiedBuffer(new byte[] {0, 5});
        x.hold(first);
        x.hold(second);
        assertThat(x.takeHeld()).containsExactly(first, second);
        assertThat(x.takeHeld()).isEmpty();
        first.release();
        second.release();
        x.handedToRelay();
        assertThat(x.finished()).isTrue();
        assertThat(x.finish()).as("the relay logs a tunnel, not the connection").isFalse();
    }

    @Test
    void heldBytesForAnUpstreamThatNeverCameAreReleased() {
        HttpExchange x = post();
        ByteBuf held = Unpooled.copiedBuffer(new byte[] {1, 2, 3});
        x.hold(held);
        x.releaseHeld();
        assertThat(held.refCnt()).isZero();
        assertThat(x.takeHeld()).isEmpty();
    }

    @Test
    void anUpgradeRequestIsKnownAsOneOnceRouted() throws Exception {
        HttpExchange x = get();
        x.targeted(RequestTarget.parse(HttpMethod.GET, "http://www.qq.test/", "www.qq.test"));
        x.routed(allowedRoute(), true);
        assertThat(x.upgrade()).isTrue();
        assertThat(x.tunnel()).isFalse();
        x.protocolsSwitched();
        assertThat(x.responseDone()).isTrue();
        assertThat(logged).as("nothing is logged by the state machine itself").isEmpty();
    }
}
