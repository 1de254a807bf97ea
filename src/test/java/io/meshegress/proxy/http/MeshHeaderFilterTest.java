package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.EgressConfig;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which header names leave a message, whatever their case (RFC 9110 section 5.1: field names are
 * case-insensitive, and clients and Envoy send them capitalised or not). The names are the ones Istio's metadata
 * exchange and Envoy's router and tracers write, from their documentation; none comes from the filter itself.
 */
class MeshHeaderFilterTest {
    private static HttpHeaders headers(String... names) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (String n : names) {
            h.add(n, "v");
        }
        return h;
    }

    private static List<String> left(HttpHeaders h) {
        return List.copyOf(h.names());
    }

    @Test
    void aRequestLosesTheMeshIdentityAndTraceContextInAnyCase() {
        HttpHeaders h = headers("Host", "X-Envoy-Peer-Metadata", "x-envoy-peer-metadata-id",
                "X-ENVOY-EXPECTED-RQ-TIMEOUT-MS", "X-Forwarded-Client-Cert", "X-B3-TraceId", "X-B3-SpanId", "B3",
                "Traceparent", "TraceState", "X-Datadog-Trace-Id", "SW8", "X-Amzn-Trace-Id", "Grpc-Trace-Bin",
                "X-Cloud-Trace-Context", "X-Ot-Span-Context", "Accept", "Content-Type");
        new MeshHeaderFilter(new EgressConfig.MeshHeaders(false, List.of())).stripFromRequest(h);
        assertThat(left(h)).containsExactlyInAnyOrder("Host", "Accept", "Content-Type");
    }

    @Test
    void namesThatOnlyLookAlikeStay() {
        HttpHeaders h = headers("X-Envoy", "X-Envoyish", "X-Forwarded-Client-Certs", "B3x", "X-B3", "Traceparent2",
                "X-Forwarded-For", "Sw8-Other");
        new MeshHeaderFilter(new EgressConfig.MeshHeaders(false, List.of())).stripFromRequest(h);
        assertThat(left(h)).containsExactlyInAnyOrder("X-Envoy", "X-Envoyish", "X-Forwarded-Client-Certs", "B3x",
                "X-B3", "Traceparent2", "X-Forwarded-For", "Sw8-Other");
    }

    @Test
    void everyValueOfARepeatedHeaderGoes() {
        HttpHeaders h = headers("x-envoy-attempt-count", "X-Envoy-Attempt-Count", "Accept");
        new MeshHeaderFilter(new EgressConfig.MeshHeaders(false, List.of())).stripFromRequest(h);
        assertThat(left(h)).containsExactly("Accept");
    }

    @Test
    void traceContextStaysWhenForwardedAndConfiguredNamesGoInAnyCase() {
        HttpHeaders h = headers("Traceparent", "X-B3-TraceId", "X-Internal-Token", "X-Envoy-Peer-Metadata", "Accept");
        new MeshHeaderFilter(new EgressConfig.MeshHeaders(true, List.of("x-internal-token"))).stripFromRequest(h);
        assertThat(left(h)).containsExactlyInAnyOrder("Traceparent", "X-B3-TraceId", "Accept");
    }

    @Test
    void aResponseLosesOnlyTheMeshIdentity() {
        HttpHeaders h = headers("X-Envoy-Peer-Metadata", "X-Envoy-Upstream-Service-Time", "x-forwarded-client-cert",
                "Traceparent", "X-B3-TraceId", "Content-Length");
        MeshHeaderFilter.stripFromResponse(h);
        assertThat(left(h)).containsExactlyInAnyOrder("Traceparent", "X-B3-TraceId", "Content-Length");
    }
}
