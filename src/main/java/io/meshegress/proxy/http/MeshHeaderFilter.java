package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    private static final String[] TRACE = {"b3", "traceparent", "tracestate", "x-ot-span-context",
            "sw8", "sw8-correlation", "sw8-x", "x-cloud-trace-context", "grpc-trace-bin", "x-amzn-trace-id"};

    private final boolean forwardTraceHeaders;
    private final Set<String> configured;

    MeshHeaderFilter(EgressConfig.MeshHeaders config) {
        this.forwardTraceHeaders = config.forwardTraceHeaders();
        this.configured = Set.copyOf(config.stripHeaders());
    }

    // Both directions walk the headers in place and compare names ignoring ASCII case, so a message that loses
    // nothing (nearly all of them) costs no allocation: headers.names() would build a set and toLowerCase a
    // string per mixed-case name, on every request and response.

    /** What a request forwarded upstream loses. */
    void stripFromRequest(HttpHeaders headers) {
        List<CharSequence> gone = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (isMeshIdentity(name) || (!forwardTraceHeaders && isTrace(name)) || isConfigured(name)) {
                gone = add(gone, name);
            }
        }
        removeAll(headers, gone);
    }

    /** What a response (interim, final, or a 101) going back to the client loses: the mesh identity only. */
    static void stripFromResponse(HttpHeaders headers) {
        List<CharSequence> gone = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (isMeshIdentity(name)) {
                gone = add(gone, name);
            }
        }
        removeAll(headers, gone);
    }

    /** {@code x-envoy-*} and {@code x-forwarded-client-cert}, in any case. */
    static boolean isMeshIdentity(CharSequence name) {
        return startsWithIgnoreCase(name, "x-envoy-") || AsciiString.contentEqualsIgnoreCase(name, "x-forwarded-client-cert");
    }

    /** A trace-context header of one of Envoy's tracers, in any case. */
    static boolean isTrace(CharSequence name) {
        if (startsWithIgnoreCase(name, "x-b3-") || startsWithIgnoreCase(name, "x-datadog-")) {
            return true;
        }
        for (String t : TRACE) {
            if (AsciiString.contentEqualsIgnoreCase(name, t)) {
                return true;
            }
        }
        return false;
    }

    private boolean isConfigured(CharSequence name) {
        // The configured names are lower case (the loader checks them); only then is a copy made to compare.
        return !configured.isEmpty() && configured.contains(name.toString().toLowerCase(Locale.ROOT));
    }

    private static boolean startsWithIgnoreCase(CharSequence name, String prefix) {
        return name.length() >= prefix.length() && AsciiString.regionMatches(name, true, 0, prefix, 0, prefix.length());
    }

    private static List<CharSequence> add(List<CharSequence> gone, CharSequence name) {
        List<CharSequence> out = gone == null ? new ArrayList<>(4) : gone;
        out.add(name);
        return out;
    }

    private static void removeAll(HttpHeaders headers, List<CharSequence> gone) {
        if (gone != null) {
            for (CharSequence name : gone) {
                headers.remove(name);
            }
        }
    }
}
