package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The headers a mesh adds that must not leave it. Pure: it judges names only.
 * <ul>
 *   <li>Mesh identity, removed always and both ways: {@code x-envoy-*} (Istio's metadata exchange puts the
 *       pod's name, namespace and labels in {@code x-envoy-peer-metadata} and {@code x-envoy-peer-metadata-id};
 *       Envoy's router adds {@code x-envoy-expected-rq-timeout-ms} and others) and
 *       {@code x-forwarded-client-cert} (the mesh client certificate's identity). Istio drops the peer metadata
 *       only towards MESH_EXTERNAL clusters, and this proxy is a mesh Service, so they reach it. On responses:
 *       a sidecar reads its upstream peer's identity from {@code x-envoy-peer-metadata} on the response, so an
 *       outside origin must not be able to name a mesh workload there.</li>
 *   <li>Trace context, removed from requests unless {@code http.forwardTraceHeaders}: what Envoy's tracers
 *       write (Zipkin's {@code x-b3-*} and {@code b3}, W3C {@code traceparent}/{@code tracestate}, Lightstep's
 *       {@code x-ot-span-context}, Datadog's {@code x-datadog-*}, SkyWalking's {@code sw8*}, OpenCensus's
 *       {@code x-cloud-trace-context} and {@code grpc-trace-bin}, X-Ray's {@code x-amzn-trace-id}): trace and
 *       span ids of the mesh's traces.</li>
 *   <li>{@code http.stripHeaders}: more names, from requests.</li>
 * </ul>
 */
final class MeshHeaderFilter {
    private static final Set<String> TRACE = Set.of("b3", "traceparent", "tracestate", "x-ot-span-context",
            "sw8", "sw8-correlation", "sw8-x", "x-cloud-trace-context", "grpc-trace-bin", "x-amzn-trace-id");

    private final boolean forwardTraceHeaders;
    private final Set<String> configured;

    MeshHeaderFilter(EgressConfig.MeshHeaders config) {
        this.forwardTraceHeaders = config.forwardTraceHeaders();
        this.configured = Set.copyOf(config.stripHeaders());
    }

    /** What a request forwarded upstream loses. */
    void stripFromRequest(HttpHeaders headers) {
        List<String> gone = null;
        for (String name : headers.names()) {
            String n = name.toLowerCase(Locale.ROOT);
            if (isMeshIdentity(n) || (!forwardTraceHeaders && isTrace(n)) || configured.contains(n)) {
                gone = add(gone, name);
            }
        }
        removeAll(headers, gone);
    }

    /** What a response (interim, final, or a 101) going back to the client loses: the mesh identity only. */
    static void stripFromResponse(HttpHeaders headers) {
        List<String> gone = null;
        for (String name : headers.names()) {
            if (isMeshIdentity(name.toLowerCase(Locale.ROOT))) {
                gone = add(gone, name);
            }
        }
        removeAll(headers, gone);
    }

    static boolean isMeshIdentity(String lowerName) {
        return lowerName.startsWith("x-envoy-") || lowerName.equals("x-forwarded-client-cert");
    }

    static boolean isTrace(String lowerName) {
        return lowerName.startsWith("x-b3-") || lowerName.startsWith("x-datadog-") || TRACE.contains(lowerName);
    }

    private static List<String> add(List<String> gone, String name) {
        List<String> out = gone == null ? new ArrayList<>(4) : gone;
        out.add(name);
        return out;
    }

    private static void removeAll(HttpHeaders headers, List<String> gone) {
        if (gone != null) {
            for (String name : gone) {
                headers.remove(name);
            }
        }
    }
}
