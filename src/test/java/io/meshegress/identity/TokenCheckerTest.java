package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import io.meshegress.config.BearerTokens;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Principal;
import io.meshegress.testing.MockCluster;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens checked through the identity watch's own TokenReview client against fabric8's mock API server,
 * which counts the TokenReviews it is sent and holds its answers until the test has started every check (so the
 * checks are truly concurrent, whatever the machine's load). A burst of requests with one token that is not yet
 * remembered must cost the API server one TokenReview, as a pod's first connections or a cache expiry bring.
 */
class TokenCheckerTest {
    private static final String AUDIENCE = "mesh-egress";
    private static final InetAddress[] CLIENTS = new InetAddress[5];

    private final AtomicInteger reviews = new AtomicInteger();
    /** The TokenReview's HTTP status: 201 Created, or a 500 while the API server is failing. */
    private volatile int status = 201;
    /** Closed while a test starts its checks; every TokenReview answer waits for it. */
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private KubernetesMockServer api;
    private KubernetesWatch watch;

    @BeforeEach
    void startApiServer(@TempDir Path dir) throws Exception {
        for (int i = 0; i < CLIENTS.length; i++) {
            CLIENTS[i] = InetAddress.getByName("127.0.1." + (i + 1));
        }
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        api = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), false);
        api.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReply(new ResponseProvider<>() {
            private Headers headers = new Headers.Builder().build();

            @Override
            public int getStatusCode(RecordedRequest request) {
                return status;
            }

            @Override
            public Object getBody(RecordedRequest request) {
                reviews.incrementAndGet();
                try {
                    gate.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (status != 201) {
                    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":500}";
                }
                // What the API server says of a token it signed: the service account in its sub claim.
                TokenReview asked = Serialization.unmarshal(request.getBody().readUtf8(), TokenReview.class);
                String sub = subject(asked.getSpec().getToken());
                return new TokenReviewBuilder(asked).withNewStatus().withAuthenticated(true)
                        .withAudiences(asked.getSpec().getAudiences()).withNewUser().withUsername(sub).endUser()
                        .endStatus().build();
            }

            @Override
            public Headers getHeaders() {
                return headers;
            }

            @Override
            public void setHeaders(Headers h) {
                headers = h;
            }
        }).always();
        // A free port and a kubeconfig naming it, as for the CRUD clusters; this server answers TokenReviews too.
        MockCluster.Endpoint endpoint = MockCluster.reserve(dir);
        api.init(InetAddress.getByName("127.0.0.1"), endpoint.port());
        Path kubeconfig = endpoint.kubeconfig();
        watch = KubernetesWatch.start(new EgressConfig.Kubernetes(kubeconfig.toString(),
                EgressConfig.UnknownClient.DEFAULT));
    }

    @AfterEach
    void stop() {
        gate.countDown();
        watch.close();
        api.destroy();
    }

    private TokenChecker checker() {
        return new TokenChecker(new BearerTokens(AUDIENCE), watch, new CheckQueue("test", 4, 64, 4));
    }

    /** {@code n} checks of {@code token}, started while the API server holds its answers, from five clients. */
    private List<CompletableFuture<CredentialVerdict>> burst(TokenChecker checker, String token, int n) {
        List<CompletableFuture<CredentialVerdict>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(checker.check(new ProxyAuthorization.Bearer(token), CLIENTS[i % CLIENTS.length]));
        }
        return out;
    }

    /** The verdicts once all are in; a check that failed (busy) as the 503 the proxy would answer. */
    private static List<CredentialVerdict> verdicts(List<CompletableFuture<CredentialVerdict>> checks) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> checks.stream().allMatch(CompletableFuture::isDone));
        return checks.stream().map(c -> c.handle((v, t) -> t == null ? v
                : new CredentialVerdict.Unavailable(String.valueOf(t.getCause() == null ? t : t.getCause()))).join())
                .toList();
    }

    private static CredentialVerdict serviceAccount(String namespace, String name) {
        return new CredentialVerdict.Verified(new Principal.ServiceAccount(new io.meshegress.policy.Workload(namespace,
                null, name, Map.of(), Map.of())));
    }

    @Test
    void fiftyConcurrentChecksOfOneNewTokenCostOneTokenReview() throws Exception {
        TokenChecker checker = checker();
        String token = jwt("system:serviceaccount:payments:api");
        gate = new CountDownLatch(1);
        List<CompletableFuture<CredentialVerdict>> checks = burst(checker, token, 50);
        gate.countDown();
        List<CredentialVerdict> verdicts = verdicts(checks);
        assertThat(reviews.get()).as("TokenReviews the API server received").isEqualTo(1);
        assertThat(verdicts).as("every request gets the one review's verdict, none a busy answer")
                .hasSize(50).containsOnly(serviceAccount("payments", "api"));
        CompletableFuture<CredentialVerdict> later = checker.check(new ProxyAuthorization.Bearer(token), CLIENTS[0]);
        assertThat(later).as("remembered: answered at once").isDone();
        assertThat(reviews.get()).isEqualTo(1);
    }

    @Test
    void aFailedReviewAnswersEveryWaiterUnavailableAndTheNextCheckAsksAgain() throws Exception {
        TokenChecker checker = checker();
        String token = jwt("system:serviceaccount:payments:api");
        status = 500;
        gate = new CountDownLatch(1);
        List<CompletableFuture<CredentialVerdict>> checks = burst(checker, token, 20);
        gate.countDown();
        List<CredentialVerdict> verdicts = verdicts(checks);
        int whileFailing = reviews.get();
        assertThat(whileFailing).as("one review, however many requests waited for it").isEqualTo(1);
        assertThat(verdicts).hasSize(20).containsOnly(new CredentialVerdict.Unavailable("token_review_unavailable"));
        status = 201;
        assertThat(checker.check(new ProxyAuthorization.Bearer(token), CLIENTS[1]).get(30, TimeUnit.SECONDS))
                .as("an unavailable answer is not remembered").isEqualTo(serviceAccount("payments", "api"));
        assertThat(reviews.get()).isEqualTo(whileFailing + 1);
        assertThat(checker.checksUnderWay()).as("nothing left behind").isZero();
    }

    @Test
    void distinctTokensAreReviewedEachOnItsOwn() throws Exception {
        TokenChecker checker = checker();
        List<String> tokens = List.of(jwt("system:serviceaccount:payments:api"),
                jwt("system:serviceaccount:payments:worker"), jwt("system:serviceaccount:shop:web"));
        gate = new CountDownLatch(1);
        List<List<CompletableFuture<CredentialVerdict>>> checks = new ArrayList<>();
        for (String t : tokens) {
            checks.add(burst(checker, t, 8));
        }
        gate.countDown();
        checks.forEach(TokenCheckerTest::verdicts);
        assertThat(reviews.get()).isEqualTo(3);
        assertThat(verdicts(checks.get(0))).containsOnly(serviceAccount("payments", "api"));
        assertThat(verdicts(checks.get(1))).containsOnly(serviceAccount("payments", "worker"));
        assertThat(verdicts(checks.get(2))).containsOnly(serviceAccount("shop", "web"));
    }

    /**
     * A flood of distinct tokens: the checks under way are only those the queue took (8 here), the rest are busy at
     * once and leave nothing behind; when the reviews are done nothing is left.
     */
    @Test
    void checksUnderWayAreBoundedByTheQueueAndNoneOutliveTheirReview() throws Exception {
        TokenChecker checker = new TokenChecker(new BearerTokens(AUDIENCE), watch, new CheckQueue("test", 2, 8, 2));
        gate = new CountDownLatch(1);
        List<CompletableFuture<CredentialVerdict>> checks = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            checks.add(checker.check(new ProxyAuthorization.Bearer(jwt("system:serviceaccount:flood:sa-" + i)),
                    CLIENTS[i % CLIENTS.length]));
        }
        assertThat(checker.checksUnderWay()).isEqualTo(8);
        assertThat(checks.stream().filter(CompletableFuture::isCompletedExceptionally).count())
                .as("over the queue's bounds: busy at once").isEqualTo(32);
        gate.countDown();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> checks.stream().allMatch(CompletableFuture::isDone));
        assertThat(checker.checksUnderWay()).isZero();
    }

    private static String jwt(String subject) {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        String claims = "{\"aud\":[\"" + AUDIENCE + "\"],\"exp\":" + (System.currentTimeMillis() / 1000 + 3600)
                + ",\"sub\":\"" + subject + "\"}";
        return e.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + e.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + e.encodeToString(new byte[64]);
    }

    private static String subject(String token) {
        String claims = new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
        int at = claims.indexOf("\"sub\":\"") + 7;
        return claims.substring(at, claims.indexOf('"', at));
    }
}
