package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.proxy.http.ResponseFraming.Body;
import io.meshegress.proxy.http.ResponseFraming.ConnectionHeader;
import io.meshegress.proxy.http.ResponseFraming.Kind;
import io.meshegress.proxy.http.ResponseFraming.Plan;
import io.meshegress.proxy.http.ResponseFraming.Request;
import io.meshegress.proxy.http.ResponseFraming.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every combination of request version, keep-alive, HEAD and upgrade with response status, keep-alive,
 * Content-Length and chunked, and a client that is or is not closing anyway (1,792 cases): each plan keeps the
 * rules of RFC 9112 a proxy must keep, and a table of named cases pins the exact plans.
 */
class ResponseFramingTest {
    static final int[] STATUSES = {100, 101, 103, 200, 204, 304, 404};

    static Stream<Object[]> everyCombination() {
        List<Object[]> out = new ArrayList<>();
        for (int bits = 0; bits < 1 << 8; bits++) {
            for (int status : STATUSES) {
                Request req = new Request(bit(bits, 0), bit(bits, 1), bit(bits, 2), bit(bits, 3));
                Response res = new Response(status, bit(bits, 4), bit(bits, 5), bit(bits, 6));
                out.add(new Object[] {req, res, bit(bits, 7)});
            }
        }
        return out.stream();
    }

    private static boolean bit(int bits, int i) {
        return (bits & (1 << i)) != 0;
    }

    @ParameterizedTest(name = "{0} {1} closing={2}")
    @MethodSource("everyCombination")
    void everyPlanKeepsTheRules(Request req, Response res, boolean closing) {
        Plan p = ResponseFraming.plan(req, res, closing);
        if (res.status() < 200) {
            assertThat(p.kind()).isEqualTo(res.status() == 101 && req.upgrade() ? Kind.SWITCH : Kind.INTERIM);
            assertThat(p.body()).isEqualTo(Body.NONE);
            return;
        }
        assertThat(p.kind()).isEqualTo(Kind.FINAL);
        boolean bodyless = req.head() || res.status() == 204 || res.status() == 304;
        // A body that has no framing ends with the connection, unless the proxy chunks it.
        assertThat(p.body() == Body.NONE).isEqualTo(bodyless);
        if (p.body() == Body.UNTIL_CLOSE) {
            assertThat(p.closeClient()).isTrue();
        }
        // A 1.0 client cannot read chunked framing.
        if (req.http10()) {
            assertThat(p.body()).isNotEqualTo(Body.CHUNKED_BY_PROXY);
        }
        // The client connection closes when the client or the proxy said so, and the header tells it.
        if (closing || !req.keepAlive()) {
            assertThat(p.closeClient()).isTrue();
        }
        assertThat(p.header() == ConnectionHeader.CLOSE).isEqualTo(p.closeClient());
        if (req.http10() && !p.closeClient()) {
            assertThat(p.header()).isEqualTo(ConnectionHeader.KEEP_ALIVE);
        }
        // An upstream connection is reused only when it is kept alive and its response's end is known.
        assertThat(p.reuseUpstream()).isEqualTo(res.keepAlive() && (bodyless || res.contentLength() || res.chunked()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # case                        | 1.0   | k-a   | HEAD  | upg   | status | up k-a | CL    | chunk | closing | kind   | body             | close | reuse | header
            1.1 keep-alive, sized          | false | true  | false | false | 200    | true   | true  | false | false   | FINAL  | AS_FRAMED        | false | true  | NONE
            1.1, body ends by closing      | false | true  | false | false | 200    | false  | false | false | false   | FINAL  | CHUNKED_BY_PROXY | false | false | NONE
            1.0, body ends by closing      | true  | true  | false | false | 200    | false  | false | false | false   | FINAL  | UNTIL_CLOSE      | true  | false | CLOSE
            1.0 keep-alive, sized          | true  | true  | false | false | 200    | true   | true  | false | false   | FINAL  | AS_FRAMED        | false | true  | KEEP_ALIVE
            client says close              | false | false | false | false | 200    | true   | true  | false | false   | FINAL  | AS_FRAMED        | true  | true  | CLOSE
            draining                       | false | true  | false | false | 200    | true   | false | true  | true    | FINAL  | AS_FRAMED        | true  | true  | CLOSE
            HEAD without length            | false | true  | true  | false | 200    | true   | false | false | false   | FINAL  | NONE             | false | true  | NONE
            304 without length             | false | true  | false | false | 304    | true   | false | false | false   | FINAL  | NONE             | false | true  | NONE
            204 from a closing upstream    | false | true  | false | false | 204    | false  | false | false | false   | FINAL  | NONE             | false | false | NONE
            100 Continue                   | false | true  | false | false | 100    | true   | false | false | false   | INTERIM| NONE             | false | false | NONE
            WebSocket upgrade              | false | true  | false | true  | 101    | true   | false | false | false   | SWITCH | NONE             | false | false | NONE
            101 nobody asked for           | false | true  | false | false | 101    | true   | false | false | false   | INTERIM| NONE             | false | false | NONE
            """)
    void namedCases(String name, boolean http10, boolean keepAlive, boolean head, boolean upgrade, int status,
                    boolean upKeepAlive, boolean cl, boolean chunked, boolean closing, Kind kind, Body body,
                    boolean close, boolean reuse, ConnectionHeader header) {
        Plan p = ResponseFraming.plan(new Request(http10, keepAlive, head, upgrade),
                new Response(status, upKeepAlive, cl, chunked), closing);
        assertThat(p).isEqualTo(new Plan(kind, body, close, reuse, header));
    }
}
