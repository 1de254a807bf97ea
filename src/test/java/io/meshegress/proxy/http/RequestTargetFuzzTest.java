package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Locale;

/**
 * The request target and CONNECT authority parser. Invariants: it returns or throws {@code Invalid}, nothing else;
 * what it returns is a normalized host (lower case, no trailing dot, no control or space characters) with a
 * port in range; and equivalent spellings (case, one trailing dot) route to the same host and port.
 */
class RequestTargetFuzzTest {

    @FuzzTest
    void targets(FuzzedDataProvider data) {
        HttpMethod method = data.pickValue(new HttpMethod[] {HttpMethod.GET, HttpMethod.CONNECT, HttpMethod.POST});
        String host = data.consumeBoolean() ? null : data.consumeString(300);
        String uri = data.consumeRemainingAsString();
        RequestTarget t;
        try {
            t = RequestTarget.parse(method, uri, host);
        } catch (RequestTarget.Invalid e) {
            assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(400);
            return;
        }
        assertThat(t.port()).isBetween(1, 65535);
        assertThat(t.host()).isEqualTo(t.host().toLowerCase(Locale.ROOT)).doesNotEndWith(".").isNotEmpty();
        assertThat(t.host().chars().allMatch(c -> c > ' ' && c < 0x7f)).as(t.host()).isTrue();
        if (method.equals(HttpMethod.CONNECT) && !t.host().contains(":")) {
            String upper = t.host().toUpperCase(Locale.ROOT) + ".:" + t.port();
            try {
                RequestTarget same = RequestTarget.parse(method, upper, null);
                assertThat(same.host()).isEqualTo(t.host());
                assertThat(same.port()).isEqualTo(t.port());
            } catch (RequestTarget.Invalid e) {
                // A name at the length limit cannot take one more dot; the plain spelling is the one that counts.
                assertThat(t.host().length()).isGreaterThanOrEqualTo(253);
            }
        }
    }
}
