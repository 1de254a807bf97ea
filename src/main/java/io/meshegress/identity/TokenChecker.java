package io.meshegress.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.config.BearerTokens;
import io.meshegress.policy.Principal;
import io.meshegress.policy.Workload;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Bearer} Kubernetes service-account tokens: the API server's TokenReview says whether a token is good
 * for identity.bearer's audience and whose it is; a good one is remembered until its {@code exp} (read from the
 * token only to bound the cache, never to trust it), at most {@link #AT_MOST}. Reviews run on the
 * {@link CheckQueue#TOKEN_REVIEW} threads; requests that bring the same new token at once share one review
 * ({@link CoalescedChecks}).
 */
final class TokenChecker {
    static final long AT_MOST = TimeUnit.MINUTES.toNanos(5);
    private static final long BAD_FOR = TimeUnit.SECONDS.toNanos(30);
    private static final Pattern SERVICE_ACCOUNT = Pattern.compile("system:serviceaccount:([a-z0-9-]{1,63}):([a-z0-9.-]{1,253})");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BearerTokens settings;
    private final TokenReviewer reviewer;
    private final CheckQueue queue;
    private final CredentialCache<CredentialVerdict> cache = new CredentialCache<>(10_000);
    private final CoalescedChecks<CredentialVerdict> underWay = new CoalescedChecks<>();

    /** @param reviewer the watch's client, or null when identity.kubernetes did not start one */
    TokenChecker(BearerTokens settings, TokenReviewer reviewer, CheckQueue queue) {
        this.settings = settings;
        this.reviewer = reviewer;
        this.queue = queue;
    }

    /** The verdict, at once when remembered, else when the one review of this token under way is done. */
    CompletableFuture<CredentialVerdict> check(ProxyAuthorization.Bearer b, InetAddress client) {
        if (reviewer == null) {
            return CompletableFuture.completedFuture(new CredentialVerdict.Unavailable("token_review_unavailable"));
        }
        ByteBuffer key = cache.keyOf(b.token().getBytes(StandardCharsets.US_ASCII));
        return underWay.verdict(cache, key, queue, client, () -> review(b.token(), key));
    }

    /** Asks the API server (on a queue thread); remembers a good or refused token, not an unanswered review. */
    private CredentialVerdict review(String token, ByteBuffer key) {
        TokenReviewer.Review review;
        try {
            review = reviewer.review(token, settings.audience());
        } catch (Exception e) {
            return new CredentialVerdict.Unavailable("token_review_unavailable");
        }
        Matcher sa = review.username() == null ? null : SERVICE_ACCOUNT.matcher(review.username());
        if (!review.authenticated() || !review.audiences().contains(settings.audience()) || sa == null
                || !sa.matches()) {
            CredentialVerdict v = new CredentialVerdict.Rejected("token_refused");
            cache.put(key, v, BAD_FOR);
            return v;
        }
        Map<String, String> nsLabels = reviewer.namespaceLabels(sa.group(1));
        CredentialVerdict v = new CredentialVerdict.Verified(new Principal.ServiceAccount(
                new Workload(sa.group(1), null, sa.group(2), Map.of(), nsLabels)));
        cache.put(key, v, lifetime(token));
        return v;
    }

    /** Reviews under way (for the tests of their bound). */
    int checksUnderWay() {
        return underWay.size();
    }

    /** How long a good token is remembered: until its exp claim, at most {@link #AT_MOST}. */
    static long lifetime(String token) {
        String[] parts = token.split("\\.");
        if (parts.length == 3) {
            try {
                JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
                if (claims.path("exp").canConvertToLong()) {
                    long left = TimeUnit.SECONDS.toNanos(claims.path("exp").asLong()
                            - System.currentTimeMillis() / 1000);
                    return Math.max(0, Math.min(left, AT_MOST));
                }
            } catch (Exception e) {
                // not a JWT we can read: the cap alone bounds it
            }
        }
        return AT_MOST;
    }
}
