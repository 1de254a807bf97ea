package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.BasicUsers;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.HtpasswdFile;
import io.meshegress.policy.Principal;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Proxy-Authorization as RFC 7617 and RFC 6750 write it, checked against bcrypt lines from outside sources. */
class CredentialsTest {
    /** From Openwall's crypt_blowfish test vectors (the password {@code U*U}), which OpenBSD's bcrypt agrees with. */
    private static final String OPENWALL_VECTOR = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

    private static String htpasswdB(String user, String password) throws Exception {
        Process p = new ProcessBuilder("htpasswd", "-n", "-b", "-B", "-C", "4", user, password).start();
        String line = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        return line;
    }

    private static List<String> basic(String userColonPassword) {
        return List.of("Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8)));
    }

    private static Credentials basicUsers(String htpasswdText) throws Exception {
        BasicUsers users = new BasicUsers(Path.of("users"), HtpasswdFile.parse("users", htpasswdText));
        return Credentials.of(new EgressConfig.Identity(null, users, null, false), Identities.NONE);
    }

    private static CredentialVerdict verdict(Credentials c, List<String> header) throws Exception {
        return c.check(header, InetAddress.getLoopbackAddress()).get(10, TimeUnit.SECONDS);
    }

    @Test
    void basicCredentialsAgainstApachesHtpasswdAndAKnownVector() throws Exception {
        Credentials c = basicUsers(htpasswdB("ci-runner", "s3cret") + "\nvector:" + OPENWALL_VECTOR + "\n");
        assertThat(verdict(c, basic("ci-runner:s3cret")))
                .isEqualTo(new CredentialVerdict.Verified(new Principal.User("ci-runner")));
        assertThat(verdict(c, basic("vector:U*U"))).isEqualTo(new CredentialVerdict.Verified(new Principal.User("vector")));
        assertThat(verdict(c, basic("vector:U*V"))).isEqualTo(new CredentialVerdict.Rejected("wrong_password"));
        assertThat(verdict(c, basic("ci-runner:s3creT"))).isEqualTo(new CredentialVerdict.Rejected("wrong_password"));
        assertThat(verdict(c, basic("nobody:s3cret"))).isEqualTo(new CredentialVerdict.Rejected("unknown_user"));
        assertThat(verdict(c, basic("ci-runner:" + "s".repeat(73))))
                .as("bcrypt would read 72 bytes of it and ignore the rest")
                .isEqualTo(new CredentialVerdict.Rejected("password_too_long"));
        assertThat(verdict(c, List.of("Bearer abc.def.ghi"))).isEqualTo(new CredentialVerdict.Rejected("scheme_not_accepted"));
        assertThat(verdict(c, List.of())).isEqualTo(CredentialVerdict.ANONYMOUS);
        assertThat(c.challenges()).containsExactly("Basic realm=\"mesh-egress\", charset=\"UTF-8\"");
    }

    @Test
    void aCheckedCredentialIsRememberedAndAnswersAtOnce() throws Exception {
        Credentials c = basicUsers(htpasswdB("ci-runner", "s3cret") + "\n");
        assertThat(verdict(c, basic("ci-runner:s3cret"))).isInstanceOf(CredentialVerdict.Verified.class);
        CompletableFuture<CredentialVerdict> again = c.check(basic("ci-runner:s3cret"), InetAddress.getLoopbackAddress());
        assertThat(again).as("no second bcrypt check").isDone();
        assertThat(again.get()).isInstanceOf(CredentialVerdict.Verified.class);
        BasicChecker fresh = new BasicChecker(new BasicUsers(Path.of("users"),
                HtpasswdFile.parse("users", htpasswdB("ci-runner", "s3cret"))), CheckQueue.BCRYPT);
        assertThat(fresh.remembered()).as("a new configuration starts with nothing remembered").isZero();
        fresh.check((ProxyAuthorization.Basic) ProxyAuthorization.parse(basic("ci-runner:s3cret")),
                InetAddress.getLoopbackAddress()).get(10, TimeUnit.SECONDS);
        assertThat(fresh.remembered()).isEqualTo(1);
    }

    /**
     * One client's parallel requests with one new password (a cost-10 hash, tens of milliseconds of bcrypt): the
     * queue takes one check of that client at a time, so a request that did not join the first check would be
     * answered busy.
     */
    @Test
    void parallelRequestsWithOneNewPasswordShareOneCheck() throws Exception {
        Process p = new ProcessBuilder("htpasswd", "-n", "-b", "-B", "-C", "10", "ci-runner", "s3cret").start();
        String line = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        BasicChecker checker = new BasicChecker(new BasicUsers(Path.of("users"), HtpasswdFile.parse("users", line)),
                new CheckQueue("test", 1, 4, 1));
        ProxyAuthorization.Basic c = (ProxyAuthorization.Basic) ProxyAuthorization.parse(basic("ci-runner:s3cret"));
        List<CompletableFuture<CredentialVerdict>> checks = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            checks.add(checker.check(c, InetAddress.getLoopbackAddress()));
        }
        for (CompletableFuture<CredentialVerdict> check : checks) {
            assertThat(check.get(30, TimeUnit.SECONDS)).isEqualTo(new CredentialVerdict.Verified(new Principal.User("ci-runner")));
        }
        assertThat(checker.checksUnderWay()).isZero();
    }

    @Test
    void theHeaderIsReadAsTheRfcsWriteIt() {
        assertThat(ProxyAuthorization.parse(List.of("basic Y2ktcnVubmVyOnMzOmNyZXQ=")))
                .as("scheme case-insensitive; the password may hold a colon (RFC 7617 section 2)")
                .satisfies(c -> {
                    ProxyAuthorization.Basic b = (ProxyAuthorization.Basic) c;
                    assertThat(b.user()).isEqualTo("ci-runner");
                    assertThat(new String(b.password(), StandardCharsets.UTF_8)).isEqualTo("s3:cret");
                    assertThat(b.toString()).doesNotContain("s3:cret");
                });
        assertThat(ProxyAuthorization.parse(List.of("Basic bm9jb2xvbg=="))).isEqualTo(new ProxyAuthorization.Unreadable("credentials_malformed"));
        assertThat(ProxyAuthorization.parse(List.of("Basic !!!"))).isEqualTo(new ProxyAuthorization.Unreadable("credentials_malformed"));
        assertThat(ProxyAuthorization.parse(List.of("Digest username=\"x\""))).isEqualTo(new ProxyAuthorization.Unreadable("scheme_not_accepted"));
        assertThat(ProxyAuthorization.parse(List.of("Basic YTpi", "Basic YTpi"))).isEqualTo(new ProxyAuthorization.Unreadable("credentials_malformed"));
        assertThat(ProxyAuthorization.parse(List.of("Bearer eyJh.eyJi.c2ln"))).isEqualTo(new ProxyAuthorization.Bearer("eyJh.eyJi.c2ln"));
        assertThat(ProxyAuthorization.parse(List.of("Bearer a b"))).isEqualTo(new ProxyAuthorization.Unreadable("credentials_malformed"));
        assertThat(ProxyAuthorization.parse(List.of())).isEqualTo(ProxyAuthorization.MISSING);
    }

    @Test
    void checksWaitingAreBoundedOverallAndPerClient() throws Exception {
        CheckQueue q = new CheckQueue("test", 1, 3, 2);
        CountDownLatch release = new CountDownLatch(1);
        InetAddress a = InetAddress.getByName("127.0.0.2");
        InetAddress b = InetAddress.getByName("127.0.0.3");
        java.util.function.Supplier<String> slow = () -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "done";
        };
        CompletableFuture<String> a1 = q.submit(a, slow);
        CompletableFuture<String> a2 = q.submit(a, slow);
        CompletableFuture<String> a3 = q.submit(a, slow);
        assertThat(a3).as("a third from one client").isCompletedExceptionally();
        CompletableFuture<String> b1 = q.submit(b, slow);
        CompletableFuture<String> b2 = q.submit(b, slow);
        assertThat(b2).as("the fourth overall").isCompletedExceptionally();
        assertThat(q.inFlight()).isEqualTo(3);
        release.countDown();
        assertThat(List.of(a1.get(10, TimeUnit.SECONDS), a2.get(10, TimeUnit.SECONDS), b1.get(10, TimeUnit.SECONDS)))
                .containsOnly("done");
        org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> q.inFlight() == 0);
        assertThat(q.submit(a, () -> "again").get(10, TimeUnit.SECONDS)).isEqualTo("again");
    }

    @Test
    void aTokenIsRememberedUntilItsExpAtMostFiveMinutes() {
        long now = System.currentTimeMillis() / 1000;
        assertThat(TokenChecker.lifetime(jwt("{\"exp\":" + (now + 60) + "}")))
                .isBetween(TimeUnit.SECONDS.toNanos(55), TimeUnit.SECONDS.toNanos(60));
        assertThat(TokenChecker.lifetime(jwt("{\"exp\":" + (now + 3600) + "}"))).isEqualTo(TokenChecker.AT_MOST);
        assertThat(TokenChecker.lifetime(jwt("{\"exp\":" + (now - 10) + "}"))).isZero();
        assertThat(TokenChecker.lifetime("opaque")).isEqualTo(TokenChecker.AT_MOST);
    }

    @Test
    void tokensGoToTheApiServersReviewAndNameAServiceAccount() throws Exception {
        TokenReviewer reviewer = new TokenReviewer() {
            @Override
            public Review review(String token, String audience) {
                return switch (token) {
                    case "good" -> new Review(true, "system:serviceaccount:pay:api", List.of(audience));
                    case "other-audience" -> new Review(true, "system:serviceaccount:pay:api", List.of());
                    case "a-user" -> new Review(true, "alice", List.of(audience));
                    default -> new Review(false, null, List.of());
                };
            }

            @Override
            public Map<String, String> namespaceLabels(String namespace) {
                return Map.of("team", "pay");
            }
        };
        Identities withReviewer = new Identities() {
            @Override
            public ClientIdentity identify(InetAddress client) {
                return ClientIdentity.NO_POD;
            }

            @Override
            public boolean ready() {
                return true;
            }

            @Override
            public TokenReviewer tokenReviewer() {
                return reviewer;
            }
        };
        Credentials c = Credentials.of(new EgressConfig.Identity(new EgressConfig.Kubernetes("",
                EgressConfig.UnknownClient.DEFAULT), null, new io.meshegress.config.BearerTokens("mesh-egress"), false),
                withReviewer);
        CredentialVerdict good = verdict(c, List.of("Bearer good"));
        Principal.ServiceAccount sa = (Principal.ServiceAccount) ((CredentialVerdict.Verified) good).principal();
        assertThat(sa.userName()).isEqualTo("system:serviceaccount:pay:api");
        assertThat(sa.workload().namespaceLabels()).containsEntry("team", "pay");
        assertThat(verdict(c, List.of("Bearer other-audience"))).isEqualTo(new CredentialVerdict.Rejected("token_refused"));
        assertThat(verdict(c, List.of("Bearer a-user"))).isEqualTo(new CredentialVerdict.Rejected("token_refused"));
        assertThat(verdict(c, List.of("Bearer forged"))).isEqualTo(new CredentialVerdict.Rejected("token_refused"));
        assertThat(verdict(c, basic("a:b"))).isEqualTo(new CredentialVerdict.Rejected("scheme_not_accepted"));
        assertThat(c.challenges()).containsExactly("Bearer realm=\"mesh-egress\"");
    }

    private static String jwt(String claims) {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        return e.encodeToString("{\"alg\":\"RS256\"}".getBytes()) + "." + e.encodeToString(claims.getBytes()) + ".c2ln";
    }
}
