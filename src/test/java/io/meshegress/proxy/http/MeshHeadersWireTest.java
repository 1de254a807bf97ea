package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.WebSocketOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What an Istio sidecar adds to an outbound plain-HTTP request stays in the mesh: the origin
 * ({@link WebSocketOrigin}, which records every head it receives) must not see the pod's metadata (Istio's
 * metadata exchange: x-envoy-peer-metadata, x-envoy-peer-metadata-id), Envoy's router headers, the mesh
 * client certificate (x-forwarded-client-cert) or, unless http.forwardTraceHeaders, the trace context. The
 * header values are the shapes Envoy and Istio write (Envoy's header docs; W3C Trace Context's examples).
 * Every request form is tried: absolute-form, origin-form routed by Host, and an upgrade answered 101.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MeshHeadersWireTest {
    static final String SIDECAR_HEADERS = """
            x-envoy-peer-metadata: ChwKDkFQUF9DT05UQUlORVJTEgoaCGN1cmwtYXBw\r
            x-envoy-peer-metadata-id: sidecar~10.1.2.3~web-7d4b9c-abcde.shop~shop.svc.cluster.local\r
            x-envoy-expected-rq-timeout-ms: 15000\r
            X-Envoy-Attempt-Count: 1\r
            x-forwarded-client-cert: By=spiffe://cluster.local/ns/egress/sa/mesh-egress;URI=spiffe://cluster.local/ns/shop/sa/web\r
            x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7\r
            x-b3-spanid: e457b5a2e4d86bd1\r
            x-b3-parentspanid: 05e3ac9a4f6e3b90\r
            x-b3-sampled: 1\r
            b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90\r
            traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r
            tracestate: congo=t61rcWkgMzE\r
            x-ot-span-context: 80f198ee56343ba8;e457b5a2e4d86bd1;1\r
            x-request-id: 5f2c1a9e-7b1d-4c1e-9a7e-0e6f3c2b8d41\r
            X-Tenant: acme\r
            X-App: kept\r
            """;
    static final List<String> MESH = List.of("x-envoy-peer-metadata:", "x-envoy-peer-metadata-id:",
            "x-envoy-expected-rq-timeout-ms:", "x-envoy-attempt-count:", "x-forwarded-client-cert:");
    static final List<String> TRACE = List.of("x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7",
            "x-b3-spanid: e457b5a2e4d86bd1", "x-b3-parentspanid: 05e3ac9a4f6e3b90", "x-b3-sampled: 1",
            "b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate: congo=t61rcWkgMzE",
            "x-ot-span-context: 80f198ee56343ba8;e457b5a2e4d86bd1;1");

    TestDnsServer dns;
    WebSocketOrigin origin;
    ProxyUnderTest strict;
    ProxyUnderTest tracing;
    String authority;

    @BeforeAll
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.24.1").answer("*.mh.test", "127.0.24.3");
        origin = new WebSocketOrigin("127.0.24.3");
        authority = "o.mh.test:" + origin.port();
        String config = """
                http:
                  listen: "%s:8080"
                  connectPorts: [443]
                %s
                sni: null
                admin: null
                resolver:
                  servers: ["%s"]
                policy:
                  allow: ["*.mh.test"]
                  denyNetworks: ["10.0.0.0/8"]
                mesh:
                  destinations: []
                """;
        strict = new ProxyUnderTest(config.formatted("127.0.24.5", "", dns.configAddress()));
        tracing = new ProxyUnderTest(config.formatted("127.0.24.6",
                "  forwardTraceHeaders: true\n  stripHeaders: [X-Tenant, x-request-id]", dns.configAddress()));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {strict, tracing, origin, dns}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void absoluteFormLosesTheMeshHeadersAndTheTraceContext() throws Exception {
        String answer = send(strict, "GET http://" + authority + "/absolute HTTP/1.1\r\nHost: " + authority + "\r\n");
        String head = receivedHead("/absolute");
        assertLacks(head, MESH);
        assertLacks(head, TRACE);
        assertThat(lower(head)).contains("x-request-id: 5f2c1a9e-7b1d-4c1e-9a7e-0e6f3c2b8d41", "x-tenant: acme",
                "x-app: kept");
        assertResponseLacksTheMeshIdentity(answer);
    }

    @Test
    void originFormRoutedByHostLosesThemToo() throws Exception {
        String answer = send(strict, "GET /by-host HTTP/1.1\r\nHost: " + authority + "\r\n");
        String head = receivedHead("/by-host");
        assertLacks(head, MESH);
        assertLacks(head, TRACE);
        assertThat(lower(head)).contains("x-app: kept");
        assertResponseLacksTheMeshIdentity(answer);
    }

    @Test
    void anUpgradeRequestLosesThemAndThe101CarriesNoMeshIdentity() throws Exception {
        String answer = send(strict, "GET /ws HTTP/1.1\r\nHost: " + authority + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
        assertThat(answer).startsWith("HTTP/1.1 101");
        String head = receivedHead("/ws");
        assertLacks(head, MESH);
        assertLacks(head, TRACE);
        assertThat(lower(head)).contains("upgrade: websocket", "x-app: kept");
        assertResponseLacksTheMeshIdentity(answer);
    }

    @Test
    void forwardTraceHeadersKeepsTheTraceContextButNeverTheMeshIdentityAndStripHeadersAddsNames() throws Exception {
        String answer = send(tracing, "GET /tracing HTTP/1.1\r\nHost: " + authority + "\r\n");
        String head = receivedHead("/tracing");
        assertLacks(head, MESH);
        assertThat(lower(head)).contains(TRACE.stream().map(MeshHeadersWireTest::lower).toArray(String[]::new)).contains("x-app: kept")
                .doesNotContain("x-tenant:", "x-request-id:");
        assertResponseLacksTheMeshIdentity(answer);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Sends a head (its request line and Host) with the sidecar's headers; returns the answer's head. */
    private static String send(ProxyUnderTest proxy, String requestAndHost) throws IOException {
        InetSocketAddress address = proxy.server().listeners().get(0).address();
        try (Socket s = new Socket()) {
            s.connect(address, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write((requestAndHost + SIDECAR_HEADERS + "\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return HttpProxyTest.readHead(in);
        }
    }

    private String receivedHead(String path) {
        return Awaitility.await().until(() -> origin.heads().stream()
                .filter(h -> h.startsWith("GET " + path + " ")).findFirst().orElse(null), h -> h != null);
    }

    private static void assertLacks(String head, List<String> headers) {
        String lower = lower(head);
        for (String h : headers) {
            String name = h.substring(0, h.indexOf(':') + 1).toLowerCase(Locale.ROOT);
            assertThat(lower).as("the origin received " + name).doesNotContain("\n" + name);
        }
    }

    private static void assertResponseLacksTheMeshIdentity(String answer) {
        assertThat(lower(answer)).doesNotContain("x-envoy-peer-metadata-id:", "x-envoy-peer-metadata:")
                .contains("x-origin-own: kept");
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
