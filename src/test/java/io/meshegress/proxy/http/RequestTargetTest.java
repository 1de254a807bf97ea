package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestTargetTest {

    @ParameterizedTest(name = "{0} {1} Host={2}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            GET     | /a?b=1                      | www.qq.com          | www.qq.com     | 80   | www.qq.com          | /a?b=1 | false
            GET     | /                           | WWW.QQ.com:8081     | www.qq.com     | 8081 | WWW.QQ.com:8081     | /      | false
            GET     | http://Api.Example.com/x    | ignored             | api.example.com| 80   | Api.Example.com     | /x     | true
            GET     | http://a.b:8080?q           | -                   | a.b            | 8080 | a.b:8080            | /?q    | true
            GET     | HTTP://a.b                  | -                   | a.b            | 80   | a.b                 | /      | true
            GET     | http://[::1]:81/p#frag      | -                   | ::1            | 81   | [::1]:81            | /p     | true
            CONNECT | www.qq.com:443              | -                   | www.qq.com     | 443  | www.qq.com:443      | -      | false
            CONNECT | [2001:db8::1]:443           | -                   | 2001:db8::1    | 443  | [2001:db8::1]:443   | -      | false
            OPTIONS | *                           | a.b                 | a.b            | 80   | a.b                 | *      | false
            """)
    void routes(String method, String uri, String host, String expectHost, int expectPort, String authority,
                String path, boolean absolute) throws Exception {
        RequestTarget t = RequestTarget.parse(HttpMethod.valueOf(method), uri, host);
        assertThat(t).isEqualTo(new RequestTarget(expectHost, expectPort, authority, path, absolute));
    }

    @ParameterizedTest(name = "{0} {1} Host={2}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            GET     | /a                    | -              | missing Host header
            GET     | /a                    | a.b:0          | is not host[:port]
            GET     | /a                    | a.b:99999      | is not host[:port]
            GET     | /a                    | a b            | a space in the Host header
            GET     | /caf\u00e9              | a.b            | non-ASCII character 0xe9 (percent-encode it; names in punycode) in the request target
            GET     | /a                    | b\u00fccher.de     | non-ASCII character 0xfc
            GET     | /a\u0001b             | a.b            | control character 0x1 in the request target
            GET     | https://a.b/          | a.b            | go through CONNECT
            GET     | ftp://a.b/            | a.b            | is neither
            GET     | http://user:pw@a.b/   | -              | credentials
            CONNECT | www.qq.com            | -              | CONNECT needs host:port
            CONNECT | :443                  | -              | CONNECT needs host:port
            """)
    void refuses(String method, String uri, String host, String message) {
        assertThatThrownBy(() -> RequestTarget.parse(HttpMethod.valueOf(method), uri, host))
                .isInstanceOf(RequestTarget.Invalid.class).hasMessageContaining(message);
    }

    @Test
    void hopByHopHeadersGoAndViaComes() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "keep-alive, X-Named")
                .add("Connection", "x-other")
                .add("X-Named", "1").add("X-Other", "2").add("Keep-Alive", "timeout=1")
                .add("Proxy-Authorization", "Basic x").add("Proxy-Connection", "keep-alive")
                .add("TE", "trailers").add("Trailer", "X-T").add("Upgrade", "h2c")
                .add("Transfer-Encoding", "chunked").add("Host", "a.b").add("X-End", "3");
        HeaderHygiene.strip(h, false);
        assertThat(h.names()).containsExactlyInAnyOrder("Transfer-Encoding", "Host", "X-End", "via");
        assertThat(h.get("via")).isEqualTo("1.1 mesh-egress");
    }

    @Test
    void upgradeSurvivesOnlyWhenUpgrading() {
        HttpHeaders h = new DefaultHttpHeaders().add("Connection", "Upgrade").add("Upgrade", "websocket");
        assertThat(HeaderHygiene.isUpgrade(h)).isTrue();
        HeaderHygiene.strip(h, true);
        assertThat(h.get("Upgrade")).isEqualTo("websocket");
        assertThat(h.get("Connection")).isEqualToIgnoringCase("upgrade");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            GET / HTTP/1.1\\r\\nHost: a\\r\\nX: b\\r\\n c\\r\\n\\r\\n   | true
            GET / HTTP/1.1\\r\\nHost: a\\r\\nX: b\\r\\n\\tc\\r\\n\\r\\n | true
            GET / HTTP/1.1\\r\\nHost: a\\r\\nX: b c\\r\\n\\r\\n        | false
            \\r\\nGET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n body\\r\\n    | false
            GET / HTTP/1.1\\r\\nHost: a\\r\\n                           | false
            """)
    void obsoleteLineFoldingIsSeenInTheHeadOnly(String head, boolean folded) {
        String text = head.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
        assertThat(ProxyRequestDecoder.hasObsFold(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1)))
                .isEqualTo(folded);
    }
}
