package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.Uninterruptibles;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.MockCluster;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proxy-Authorization on the built jar's HTTP listener, with curl as users run it: Basic against an htpasswd file
 * made by Apache's own htpasswd, Bearer service-account tokens that fabric8's mock API server reviews (a
 * TokenReview expectation beside its CRUD store, which the identity watch lists), for CONNECT and plain requests.
 * A client no role names must show a credential (407, with a challenge per scheme); a bad one is a 407 for
 * everyone; the header never reaches the origin, the access log or the admin pages; a changed htpasswd file takes
 * effect on its own; a flood of wrong passwords from one client does not keep others waiting.
 */
class ProxyCredentialsIT {
    static final String PROXY = "127.0.0.10:8080";
    static final String ADMIN = "http://127.0.0.10:9901";
    /** No pod, no role by address: must authenticate. */
    static final String ANONYMOUS = "127.0.0.11";
    /** In role vm by address: needs no credential. */
    static final String VM = "127.0.0.12";
    static final String FLOODER = "127.0.0.13";
    static final String LATECOMER = "127.0.0.14";
    static final String GOOD_TOKEN = jwt("{\"iss\":\"kubernetes/serviceaccount\",\"aud\":[\"mesh-egress\"],\"exp\":"
            + (System.currentTimeMillis() / 1000 + 3600) + ",\"sub\":\"system:serviceaccount:payments:api\"}");
    static final String FORGED_TOKEN = jwt("{\"sub\":\"system:serviceaccount:payments:api\"}");
    /** The same service account's next token, which the proxy has not seen. */
    static final String BURST_TOKEN = jwt("{\"iss\":\"kubernetes/serviceaccount\",\"aud\":[\"mesh-egress\"],\"exp\":"
            + (System.currentTimeMillis() / 1000 + 3700) + ",\"sub\":\"system:serviceaccount:payments:api\"}");
    final HttpClient http = HttpClient.newHttpClient();
    /** Closed while a burst of requests is being started: the API server holds its TokenReview answers. */
    volatile CountDownLatch reviewsHeld = new CountDownLatch(0);

    @Test
    void credentialsNameClientsTheClusterCannot(@TempDir Path dir) throws Exception {
        Path users = dir.resolve("htpasswd");
        htpasswd("-c", "-B", "-C", "5", users.toString(), "ci-runner", "s3cret");
        // A costly hash (about a second of CPU per check on a busy 2-core machine): what a flood would burn.
        htpasswd("-B", "-C", "12", users.toString(), "deploy", "d3ploy");
        AtomicInteger reviews = new AtomicInteger();
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), false);
        api.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReply(201, req -> {
            reviews.incrementAndGet();
            Uninterruptibles.awaitUninterruptibly(reviewsHeld, 30, TimeUnit.SECONDS);
            TokenReview asked = Serialization.unmarshal(req.getBody().readUtf8(), TokenReview.class);
            boolean good = List.of(GOOD_TOKEN, BURST_TOKEN).contains(asked.getSpec().getToken());
            // The API server answers with the spec's audiences the token is good for (none for a forged one).
            return new TokenReviewBuilder(asked).withNewStatus().withAuthenticated(good)
                    .withAudiences(good ? asked.getSpec().getAudiences() : List.of())
                    .withNewUser().withUsername(good ? "system:serviceaccount:payments:api" : null).endUser()
                    .endStatus().build();
        }).always();
        // A free port and a kubeconfig naming it, as for the CRUD clusters; this server answers TokenReviews too.
        MockCluster.Endpoint endpoint = MockCluster.reserve(dir);
        api.init(InetAddress.getByName("127.0.0.1"), endpoint.port());
        Path kubeconfig = endpoint.kubeconfig();
        Path log = dir.resolve("access.log");
        try (KubernetesClient k8s = api.createClient();
             TestDnsServer dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.20");
             HttpOrigin origin = new HttpOrigin("127.0.0.20", 8081)) {
            k8s.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("payments")
                    .withLabels(Map.of("team", "pay")).endMetadata().build()).create();
            Path config = Files.writeString(dir.resolve("egress.yaml"), """
                    http: {listen: "%s", connectPorts: [8081]}
                    admin: {listen: "127.0.0.10:9901"}
                    resolver: {servers: ["%s"]}
                    accessLog: {destination: "%s"}
                    identity:
                      kubernetes: {kubeconfig: "%s"}
                      basic: {file: htpasswd}
                      bearer: {}
                    policy:
                      allow: [open.qq.test]
                      denyNetworks: []
                      roles:
                        - name: ci
                          workloads: [{user: ci-runner}]
                          allow: [ci.qq.test]
                        - name: payments
                          workloads: [{namespaceSelector: {team: pay}, serviceAccount: api}]
                          allow: [pay.qq.test]
                        - name: vm
                          clients: ["%s/32"]
                          allow: [open.qq.test, vm.qq.test]
                    """.formatted(PROXY, dns.configAddress(), log, kubeconfig, VM));
            try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
                proxy.awaitErr(l -> l.contains("listening: http " + PROXY));
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/readyz") == 200);

                for (boolean tunnel : new boolean[] {true, false}) {
                    String way = tunnel ? "CONNECT" : "plain";
                    // No credential from a client no role names: 407, whichever way it asks.
                    assertThat(curl(ANONYMOUS, tunnel, "open.qq.test")).as(way).isEqualTo("407");
                    // Basic: the role of the user; a bad password or an unknown user is a 407.
                    assertThat(curl(ANONYMOUS, tunnel, "ci.qq.test", "--proxy-user", "ci-runner:s3cret")).as(way)
                            .isEqualTo("200");
                    assertThat(curl(ANONYMOUS, tunnel, "pay.qq.test", "--proxy-user", "ci-runner:s3cret")).as(way)
                            .isEqualTo("403");
                    assertThat(curl(ANONYMOUS, tunnel, "ci.qq.test", "--proxy-basic", "--proxy-user",
                            "ci-runner:wrong")).as(way).isEqualTo("407");
                    assertThat(curl(ANONYMOUS, tunnel, "ci.qq.test", "--proxy-user", "nobody:s3cret")).as(way)
                            .isEqualTo("407");
                    // Bearer: the token's service account selects its role; a forged one is a 407.
                    assertThat(curl(ANONYMOUS, tunnel, "pay.qq.test", "--proxy-header",
                            "Proxy-Authorization: Bearer " + GOOD_TOKEN)).as(way).isEqualTo("200");
                    assertThat(curl(ANONYMOUS, tunnel, "ci.qq.test", "--proxy-header",
                            "Proxy-Authorization: Bearer " + GOOD_TOKEN)).as(way).isEqualTo("403");
                    assertThat(curl(ANONYMOUS, tunnel, "pay.qq.test", "--proxy-header",
                            "Proxy-Authorization: Bearer " + FORGED_TOKEN)).as(way).isEqualTo("407");
                    // A client its address names needs nothing; a bad credential is a 407 for it too.
                    assertThat(curl(VM, tunnel, "vm.qq.test")).as(way).isEqualTo("200");
                    assertThat(curl(VM, tunnel, "vm.qq.test", "--proxy-user", "ci-runner:wrong")).as(way)
                            .isEqualTo("407");
                }
                assertThat(reviews.get()).as("a good token is reviewed once and remembered; a forged one is "
                        + "remembered as refused for a while").isEqualTo(2);
                burstWithOneNewTokenCostsOneReview(reviews, log);

                // The challenge names both schemes, on CONNECT and on plain requests.
                assertThat(rawHead(ANONYMOUS, "CONNECT ci.qq.test:8081 HTTP/1.1\r\nHost: ci.qq.test:8081\r\n\r\n"))
                        .startsWith("HTTP/1.1 407 ")
                        .contains("proxy-authenticate: Basic realm=\"mesh-egress\"", "proxy-authenticate: Bearer "
                                + "realm=\"mesh-egress\"");
                assertThat(rawHead(ANONYMOUS, "GET http://ci.qq.test:8081/hello HTTP/1.1\r\nHost: ci.qq.test:8081"
                        + "\r\nProxy-Authorization: Basic " + b64("ci-runner:wrong") + "\r\n\r\n"))
                        .startsWith("HTTP/1.1 407 ").contains("proxy-authenticate: Basic realm=\"mesh-egress\"")
                        .doesNotContain("wrong_password");

                // The origin never sees the header: it echoes what it received.
                String basicSeen = body(ANONYMOUS, "http://ci.qq.test:8081/headers", "--proxy-user", "ci-runner:s3cret");
                String bearerSeen = body(ANONYMOUS, "http://pay.qq.test:8081/headers", "--proxy-header",
                        "Proxy-Authorization: Bearer " + GOOD_TOKEN);
                for (String seen : List.of(basicSeen, bearerSeen)) {
                    assertThat(seen).contains("host: ").doesNotContainIgnoringCase("proxy-authorization")
                            .doesNotContain(b64("ci-runner:s3cret"), GOOD_TOKEN);
                }

                // The access log names the user on every line of an authenticated request, and never the secret.
                String ciLine = awaitLine(log, l -> l.contains("\"user\":\"ci-runner\"") && l.contains("ci.qq.test")
                        && l.contains("\"kind\":\"connect\""));
                assertThat(ciLine).contains("\"role\":\"ci\"", "\"decision\":\"allowed\"");
                assertThat(awaitLine(log, l -> l.contains("system:serviceaccount:payments:api")
                        && l.contains("\"kind\":\"http\"")))
                        .contains("\"role\":\"payments\"", "\"namespace\":\"payments\"", "\"serviceAccount\":\"api\"");
                assertThat(awaitLine(log, l -> l.contains("\"reason\":\"wrong_password\""))).contains("\"status\":407");
                assertThat(awaitLine(log, l -> l.contains("\"reason\":\"credentials_missing\""))).contains("\"status\":407");
                assertThat(awaitLine(log, l -> l.contains("\"reason\":\"unknown_user\""))).contains("\"status\":407");
                assertThat(awaitLine(log, l -> l.contains("\"reason\":\"token_refused\""))).contains("\"status\":407");
                String whole = Files.readString(log);
                for (String secret : List.of("s3cret", b64("ci-runner:s3cret"), b64("ci-runner:wrong"), GOOD_TOKEN,
                        FORGED_TOKEN, "Proxy-Authorization", "proxy-authorization")) {
                    assertThat(whole).as("the access log").doesNotContain(secret);
                }
                for (String page : List.of("/", "/refusals", "/explain?host=ci.qq.test&client=" + ANONYMOUS)) {
                    String shown = get(page);
                    for (String secret : List.of("s3cret", b64("ci-runner:s3cret"), b64("ci-runner:wrong"), GOOD_TOKEN,
                            FORGED_TOKEN)) {
                        assertThat(shown).as(page).doesNotContain(secret);
                    }
                }
                assertThat(get("/refusals")).contains("wrong_password");

                // check --user and /explain?user= answer as the proxy did for ci-runner's good credential.
                List<String> checked = JarProcess.runToEnd("check", "-c", config.toString(), "--user", "ci-runner",
                        "ci.qq.test:8081", "pay.qq.test:8081").out();
                assertThat(checked).contains("user ci-runner: role ci (policy.roles[0].workloads[0] (user ci-runner)), "
                        + "mode enforce");
                assertThat(checked).filteredOn(l -> l.contains("ci.qq.test:8081 via http 127.0.0.10:8080 CONNECT"))
                        .singleElement().asString().contains("allowed by policy.roles[0].allow[0] \"ci.qq.test\"");
                assertThat(checked).filteredOn(l -> l.contains("pay.qq.test:8081 via http 127.0.0.10:8080 CONNECT"))
                        .singleElement().asString().contains("refused by policy.roles[0].allow (pay.qq.test matches "
                                + "no allow pattern of role ci)");
                String explained = get("/explain?host=ci.qq.test&port=8081&user=ci-runner&client=" + ANONYMOUS);
                assertThat(explained).contains("\"user\":\"ci-runner\"", "\"name\":\"ci\"")
                        .contains(checked.stream().filter(l -> l.startsWith("ci.qq.test:8081 via http 127.0.0.10:8080 "
                                + "CONNECT")).findFirst().orElseThrow().replace("\"", "\\\""));
                assertThat(JarProcess.runToEnd("check", "-c", config.toString(), "--user", "nobody", "ci.qq.test:8081")
                        .out()).anyMatch(l -> l.startsWith("warning: user \"nobody\" is not in " + users));

                floodOfWrongPasswordsKeepsNobodyWaiting(log);

                // A new password in the htpasswd file takes effect with no change to the config.
                htpasswd("-B", "-C", "5", users.toString(), "ci-runner", "n3w-s3cret");
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> curl(ANONYMOUS, false, "ci.qq.test",
                        "--proxy-user", "ci-runner:n3w-s3cret").equals("200"));
                assertThat(curl(ANONYMOUS, true, "ci.qq.test", "--proxy-user", "ci-runner:s3cret"))
                        .as("the old password, remembered under the old file, is forgotten").isEqualTo("407");
                // A broken file is a rejected reload: the old users keep serving, and the reason names its line.
                Files.writeString(users, Files.readString(users) + "legacy:" + "$apr1$4l1/u3fn$aO6.ifGyJVxS3.mNKiadh1\n");
                proxy.awaitErr(l -> l.contains("reload rejected") && l.contains(users + ":3: user \"legacy\": an MD5 "
                        + "(apr1) hash"));
                assertThat(curl(ANONYMOUS, true, "ci.qq.test", "--proxy-user", "ci-runner:n3w-s3cret")).isEqualTo("200");
            }
        } finally {
            api.destroy();
        }
    }

    /**
     * 60 different wrong passwords for the costly user from one client, 30 at once (bounded count and time), while
     * another client, whose credential was checked before, and a third, with a new one, are served within curl's
     * 10 seconds. Unbounded, the flood's checks would queue for a minute; on an event loop they would stall it.
     */
    void floodOfWrongPasswordsKeepsNobodyWaiting(Path log) throws Exception {
        assertThat(curl(ANONYMOUS, false, "ci.qq.test", "--proxy-user", "ci-runner:s3cret")).isEqualTo("200");
        // Each a different wrong password (a remembered refusal would cost nothing), each its own curl transfer.
        List<String> flood = new ArrayList<>(List.of("curl", "-s", "--parallel", "--parallel-max", "30"));
        for (int i = 0; i < 60; i++) {
            if (i > 0) {
                flood.add("--next");
            }
            flood.addAll(List.of("--noproxy", "", "--interface", FLOODER, "--max-time", "60", "-o", "/dev/null", "-w",
                    "%{http_code}\\n", "-x", "http://" + PROXY, "--proxy-user", "deploy:wrong-" + i,
                    "http://open.qq.test:8081/hello?" + i));
        }
        Process flooding = new ProcessBuilder(flood).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(log).contains("\"client\":\""
                + FLOODER) || !flooding.isAlive());
        assertThat(flooding.isAlive()).as("the flood is still checking its first passwords").isTrue();
        long started = System.nanoTime();
        assertThat(curl(ANONYMOUS, true, "ci.qq.test", "--proxy-user", "ci-runner:s3cret")).isEqualTo("200");
        assertThat(curl(LATECOMER, false, "ci.qq.test", "--proxy-user", "ci-runner:s3cret")).isEqualTo("200");
        long servedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(flooding.waitFor(90, TimeUnit.SECONDS)).isTrue();
        List<String> codes = new String(flooding.getInputStream().readAllBytes()).lines().toList();
        assertThat(codes).as("served others in %d ms", servedMillis).hasSize(60).containsOnly("407", "503")
                .contains("407", "503");
        assertThat(awaitLine(log, l -> l.contains("\"reason\":\"credentials_busy\""))).contains("\"status\":503");
    }

    /**
     * 20 requests with a token the proxy has not seen, started together as a pod's first connections are (one curl,
     * 20 transfers at once): with the API server's answer held until all are connected, one TokenReview serves all.
     */
    void burstWithOneNewTokenCostsOneReview(AtomicInteger reviews, Path log) throws Exception {
        int before = reviews.get();
        reviewsHeld = new CountDownLatch(1);
        List<String> burst = new ArrayList<>(List.of("curl", "-s", "--parallel", "--parallel-immediate",
                "--parallel-max", "20"));
        for (int i = 0; i < 20; i++) {
            burst.addAll(i == 0 ? List.of() : List.of("--next"));
            burst.addAll(List.of("--noproxy", "", "--interface", ANONYMOUS, "--max-time", "40", "-o", "/dev/null",
                    "-w", "%{http_code}\\n", "-x", "http://" + PROXY, "--proxy-header", "Proxy-Authorization: Bearer "
                            + BURST_TOKEN, "http://pay.qq.test:8081/hello?" + i));
        }
        Process curls = new ProcessBuilder(burst).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // curl's ends in the kernel's TCP table (this network namespace's): all 20 connected, or one answered busy.
            String listener = hex("127.0.0.10") + ":1F90", from = hex(ANONYMOUS) + ":";
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(log).contains("_busy")
                    || Files.readAllLines(Path.of("/proc/net/tcp")).stream().map(l -> l.trim().split("\\s+"))
                    .filter(f -> f[1].startsWith(from) && f[2].equals(listener) && f[3].equals("01")).count() == 20);
        } finally {
            reviewsHeld.countDown();
        }
        assertThat(curls.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(reviews.get() - before).as("TokenReviews for 20 requests with one new token").isEqualTo(1);
        assertThat(new String(curls.getInputStream().readAllBytes()).lines().toList()).hasSize(20).containsOnly("200");
    }

    /** An IPv4 address as /proc/net/tcp writes it: the 32 bits in hex, in the host's (little-endian) order. */
    static String hex(String ipv4) throws Exception {
        byte[] b = InetAddress.getByName(ipv4).getAddress();
        return String.format("%02X%02X%02X%02X", b[3], b[2], b[1], b[0]);
    }

    static void htpasswd(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("htpasswd", "-b"));
        cmd.addAll(List.of(args));
        Command c = Command.run(cmd);
        assertThat(c.exitCode()).as("htpasswd: " + c.err()).isZero();
    }

    /** The status curl saw: the CONNECT's answer when it was not 200, else the origin's. */
    static String curl(String from, boolean tunnel, String host, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "--max-time", "10", "--noproxy",
                "", "--interface", from, "-w", "%{http_connect} %{http_code}", "-x", "http://" + PROXY));
        if (tunnel) {
            cmd.add("-p");
        }
        cmd.addAll(List.of(more));
        cmd.add("http://" + host + ":8081/hello");
        String[] codes = Command.run(cmd).out().trim().split(" ");
        return !codes[0].equals("000") && !codes[0].equals("200") ? codes[0] : codes[1];
    }

    static String body(String from, String url, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "--max-time", "10", "--noproxy", "", "--interface",
                from, "-x", "http://" + PROXY));
        cmd.addAll(List.of(more));
        cmd.add(url);
        return Command.run(cmd).out();
    }

    /** The head of the proxy's answer to a request written byte for byte, header names in lower case. */
    static String rawHead(String from, String request) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.10", 8080), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().contains("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.append((char) b);
            }
            StringBuilder out2 = new StringBuilder();
            for (String line : head.toString().split("\r\n")) {
                int colon = line.indexOf(':');
                out2.append(colon > 0 && !line.startsWith("HTTP/") ? line.substring(0, colon).toLowerCase() + line.substring(colon)
                        : line).append('\n');
            }
            return out2.toString();
        }
    }

    static String awaitLine(Path log, java.util.function.Predicate<String> match) {
        return Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(log) ? null
                : Files.readAllLines(log).stream().filter(match).findFirst().orElse(null), l -> l != null);
    }

    int status(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ADMIN + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String jwt(String claims) {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        return e.encodeToString("{\"alg\":\"RS256\",\"kid\":\"test\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + e.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + e.encodeToString(new byte[64]);
    }
}
