package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.MockCluster;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsOrigin;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Roles by Kubernetes workload, end to end: the built jar watches fabric8's mock API server (CRUD mode: real list
 * and watch over HTTP) through a kubeconfig the test writes, and curl clients bound to loopback addresses play the
 * pods. Before the first list the proxy refuses everyone and is not ready; then each pod gets its namespace's
 * role over CONNECT, absolute-form and Host-routed HTTP; an address handed from a deleted pod to a pod in another
 * namespace changes the answer for new connections only; with the API server gone the last map keeps serving and
 * the staleness gauge rises; when it comes back the watch resumes, and after 410 Gone the informer lists afresh
 * (pods missing from the new list lose their addresses).
 */
class WorkloadIdentityIT {
    static final String PROXY = "127.0.0.10:8080";
    static final String ADMIN = "http://127.0.0.10:9901";
    static final String PAYMENTS_POD = "127.0.0.11";
    static final String SEARCH_POD = "127.0.0.12";
    static final String NO_POD = "127.0.0.13";
    final HttpClient http = HttpClient.newHttpClient();
    static Path caPem;

    @Test
    void rolesFollowTheWorkloadBehindEachClientAddress(@TempDir Path dir) throws Exception {
        // The kubeconfig names the API server before it is there: the proxy starts first.
        MockCluster.Endpoint api = MockCluster.reserve(dir);
        TestPki pki = TestPki.create(dir);
        caPem = pki.caPem();
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.20");
             HttpOrigin origin = new HttpOrigin("127.0.0.20", 8081);
             TlsOrigin tls = new TlsOrigin("127.0.0.20", 10443, pki)) {
            Path config = Files.writeString(dir.resolve("egress.yaml"), """
                    http: {listen: "%s", connectPorts: [8081]}
                    admin: {listen: "127.0.0.10:9901"}
                    sni: [{listen: "127.0.0.10:8443", upstreamPort: 10443}]
                    resolver: {servers: ["%s"]}
                    identity:
                      kubernetes: {kubeconfig: "%s"}
                    policy:
                      allow: []
                      denyNetworks: []
                      roles:
                        - name: payments
                          workloads: [{namespace: payments, serviceAccount: api, podSelector: {app: api}}]
                          allow: [pay.qq.test]
                        - name: search
                          workloads:
                            - namespaceSelector:
                                matchExpressions: [{key: team, operator: In, values: [search]}]
                          allow: [search.qq.test]
                    """.formatted(PROXY, dns.configAddress(), api.kubeconfig()));
            try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
                proxy.awaitErr(l -> l.contains("listening: http " + PROXY));
                // No API server yet: nobody can be named, so nobody is served.
                assertThat(status("/readyz")).isEqualTo(503);
                assertThat(curl(PAYMENTS_POD, "-x", "http://" + PROXY, "http://pay.qq.test:8081/hello"))
                        .startsWith("503");
                assertThat(proxy.awaitOut(l -> l.contains("identity_not_ready"))).contains("\"status\":503");

                try (MockCluster cluster = api.start()) {
                    cluster.namespace("payments", Map.of("team", "pay"));
                    cluster.namespace("search", Map.of("team", "search"));
                    cluster.pod("payments", "api-1", "api", Map.of("app", "api"), PAYMENTS_POD);
                    cluster.pod("search", "web-1", "web", Map.of("app", "web"), SEARCH_POD);
                    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);

                    List<String[]> everyWay = new ArrayList<>(ways());
                    everyWay.add(new String[] {"sni"});
                    for (String[] way : everyWay) {
                        // SNI refuses with a TLS alert: curl sees no HTTP status at all.
                        String refused = way[0].equals("sni") ? "000" : "403";
                        assertThat(answer(PAYMENTS_POD, way, "pay.qq.test")).as(way[0]).isEqualTo("200");
                        assertThat(answer(PAYMENTS_POD, way, "search.qq.test")).as(way[0]).isEqualTo(refused);
                        assertThat(answer(SEARCH_POD, way, "search.qq.test")).as(way[0]).isEqualTo("200");
                        assertThat(answer(SEARCH_POD, way, "pay.qq.test")).as(way[0]).isEqualTo(refused);
                        assertThat(answer(NO_POD, way, "pay.qq.test")).as(way[0] + ": no pod, the default role")
                                .isEqualTo(refused);
                    }
                    assertThat(proxy.awaitOut(l -> l.contains("\"kind\":\"sni\"") && l.contains("\"client\":\""
                            + SEARCH_POD) && l.contains("pay.qq.test"))).contains("\"role\":\"search\"",
                            "\"decision\":\"refused\"", "\"namespace\":\"search\"");
                    String line = proxy.awaitOut(l -> l.contains("\"client\":\"" + PAYMENTS_POD) && l.contains("pay.qq.test"));
                    assertThat(line).contains("\"role\":\"payments\"", "\"namespace\":\"payments\"",
                            "\"serviceAccount\":\"api\"", "\"pod\":\"api-1\"");

                    // A connection accepted while the address is the payments pod's keeps that role.
                    try (KeptConnection kept = new KeptConnection(PAYMENTS_POD)) {
                        assertThat(kept.get("pay.qq.test")).isEqualTo(200);
                        cluster.deletePod("payments", "api-1");
                        cluster.pod("search", "web-2", "web", Map.of("app", "web"), PAYMENTS_POD);
                        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> answer(PAYMENTS_POD,
                                ways().get(0), "search.qq.test").equals("200"));
                        assertThat(answer(PAYMENTS_POD, ways().get(1), "pay.qq.test")).isEqualTo("403");
                        assertThat(kept.get("pay.qq.test")).as("the connection keeps the role it was accepted with")
                                .isEqualTo(200);
                    }

                    // A finished pod releases its address; a host-network pod never names one.
                    cluster.podFinished("search", "web-1");
                    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> answer(SEARCH_POD,
                            ways().get(0), "search.qq.test").equals("403"));
                    cluster.pod("payments", "node-agent", "api", Map.of("app", "api"), NO_POD);
                    cluster.podOnHostNetwork("payments", "node-agent");
                    cluster.pod("payments", "marker", "api", Map.of("app", "api"), "127.0.0.14");
                    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> answer("127.0.0.14",
                            ways().get(0), "pay.qq.test").equals("200"));
                    assertThat(answer(NO_POD, ways().get(0), "pay.qq.test")).isEqualTo("403");
                }
                // The API server is gone: the last map keeps serving, and the gauge says how stale it is.
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> staleness() > 3);
                assertThat(answer(PAYMENTS_POD, ways().get(0), "search.qq.test")).isEqualTo("200");
                assertThat(answer("127.0.0.14", ways().get(0), "pay.qq.test")).isEqualTo("200");
                assertThat(status("/readyz")).isEqualTo(200);

                // The API server comes back with a pod it did not have: the watch resumes, the pod gets its role.
                ExpiringHistory history = new ExpiringHistory();
                try (MockCluster restarted = api.start(history)) {
                    restarted.namespace("payments", Map.of("team", "pay"));
                    restarted.namespace("search", Map.of("team", "search"));
                    restarted.pod("payments", "late-1", "api", Map.of("app", "api"), "127.0.0.15");
                    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> answer("127.0.0.15",
                            ways().get(0), "pay.qq.test").equals("200"));
                    assertThat(answer("127.0.0.15", ways().get(2), "search.qq.test")).isEqualTo("403");
                    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> staleness() < 2);
                    // This server replays no deletions on a resumed watch (a real one would, from its history),
                    // so the marker pod it never had is still known: only a fresh list can drop it.
                    assertThat(answer("127.0.0.14", ways().get(0), "pay.qq.test")).isEqualTo("200");
                    assertThat(history.podLists()).as("a resumed watch, no new list").isZero();
                }

                // Back again, it no longer has the resourceVersion the watch resumes from: 410 Gone, and the
                // informer lists afresh. The marker and late-1 are in no list now, so they are gone.
                history = new ExpiringHistory();
                history.expireNextPodWatch();
                try (MockCluster relisted = api.start(history)) {
                    relisted.namespace("payments", Map.of("team", "pay"));
                    relisted.namespace("search", Map.of("team", "search"));
                    relisted.pod("search", "late-2", "web", Map.of("app", "web"), "127.0.0.16");
                    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> answer("127.0.0.16",
                            ways().get(0), "search.qq.test").equals("200"));
                    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> answer("127.0.0.14",
                            ways().get(0), "pay.qq.test").equals("403"));
                    assertThat(answer("127.0.0.15", ways().get(1), "pay.qq.test")).isEqualTo("403");
                    assertThat(history.goneAnswered()).isTrue();
                    assertThat(history.podLists()).as("the list after 410 Gone").isPositive();
                    assertThat(status("/readyz")).isEqualTo(200);
                }
            }
        }
    }

    /**
     * CRUD mode, counting the lists of pods; once armed, the next watch of pods from a resourceVersion is answered
     * as an API server answers a resourceVersion its history no longer holds: an ERROR event carrying a Status
     * 410 Gone, reason Expired (kube-apiserver's watch cache sends the error in the stream, not as the status).
     */
    static final class ExpiringHistory extends KubernetesCrudDispatcher {
        private final AtomicBoolean armed = new AtomicBoolean();
        private final AtomicBoolean goneAnswered = new AtomicBoolean();
        private final AtomicInteger podLists = new AtomicInteger();

        void expireNextPodWatch() {
            armed.set(true);
        }

        boolean goneAnswered() {
            return goneAnswered.get();
        }

        int podLists() {
            return podLists.get();
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            if (request.getMethod().equals("GET") && path.startsWith("/api/v1/pods")) {
                boolean watch = path.contains("watch=true");
                if (watch && path.contains("resourceVersion=") && armed.compareAndSet(true, false)) {
                    // As the API server's watch cache answers: the stream opens, then an ERROR event, then the end.
                    return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                        @Override
                        public void onOpen(WebSocket ws, Response response) {
                            goneAnswered.set(true);
                            ws.send("""
                                    {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},\
                                    "status":"Failure","message":"too old resource version: 1 (2)",\
                                    "reason":"Expired","code":410}}""");
                            ws.close(1000, "");
                        }
                    });
                }
                if (!watch) {
                    podLists.incrementAndGet();
                }
            }
            return super.dispatch(request);
        }
    }

    /** CONNECT, an absolute-form request, and a Host-routed request to the listener itself. */
    static List<String[]> ways() {
        return List.of(new String[] {"connect"}, new String[] {"absolute"}, new String[] {"host"});
    }

    static String answer(String from, String[] way, String host) throws Exception {
        return switch (way[0]) {
            case "connect" -> curl(from, "-p", "-x", "http://" + PROXY, "http://" + host + ":8081/hello");
            case "absolute" -> curl(from, "-x", "http://" + PROXY, "http://" + host + ":8081/hello");
            case "sni" -> curl(from, "--cacert", caPem.toString(), "--resolve", host + ":8443:127.0.0.10",
                    "https://" + host + ":8443/hello");
            default -> curl(from, "-H", "Host: " + host + ":8081", "http://" + PROXY + "/hello");
        };
    }

    /** The status curl saw: the CONNECT's answer when the tunnel was refused, else the origin's. */
    static String curl(String from, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "--max-time", "10", "--noproxy",
                "", "--interface", from, "-w", "%{http_connect} %{http_code}"));
        cmd.addAll(List.of(args));
        String[] codes = Command.run(cmd).out().trim().split(" ");
        return !codes[0].equals("000") && !codes[0].equals("200") ? codes[0] : codes[1];
    }

    int status(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    double staleness() throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create(ADMIN + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("meshegress_identity_staleness_seconds "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(-1);
    }

    /** One client connection from a pod's address, kept open across requests (absolute-form, keep-alive). */
    static final class KeptConnection implements AutoCloseable {
        private final Socket socket = new Socket();
        private final BufferedReader in;
        private final OutputStream out;

        KeptConnection(String from) throws Exception {
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress("127.0.0.10", 8080), 5000);
            socket.setSoTimeout(10_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
        }

        int get(String host) throws Exception {
            out.write(("GET http://" + host + ":8081/hello HTTP/1.1\r\nHost: " + host + ":8081\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            int status = Integer.parseInt(in.readLine().split(" ")[1]);
            int length = 0;
            for (String h = in.readLine(); !h.isEmpty(); h = in.readLine()) {
                if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(h.substring(15).trim());
                }
            }
            for (int i = 0; i < length; i++) {
                in.read();
            }
            return status;
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }
}
