package io.meshegress.identity;

import io.meshegress.config.BasicUsers;
import io.meshegress.policy.Principal;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * {@code Basic} credentials against identity.basic's users, with Spring Security's bcrypt. A check runs on the
 * {@link CheckQueue#BCRYPT} threads, never on the caller's; its verdict is remembered ({@link CredentialCache}),
 * so a client pays for bcrypt once per password and configuration, and requests that bring the same new
 * credential at once wait for one check. An unknown user costs a bcrypt check too (of a
 * hash made here at the file's cost), so the time of an answer does not tell which users exist.
 */
final class BasicChecker {
    /** bcrypt reads the first 72 bytes of a password; a longer one is refused, never silently cut. */
    static final int MAX_PASSWORD_BYTES = 72;
    private static final long GOOD_FOR = TimeUnit.MINUTES.toNanos(10);
    private static final long BAD_FOR = TimeUnit.MINUTES.toNanos(1);

    private final BasicUsers users;
    private final CheckQueue queue;
    private final CredentialCache<CredentialVerdict> cache = new CredentialCache<>(10_000);
    /** Checks under way, by credential: parallel requests with one new password share one check. */
    private final CoalescedChecks<CredentialVerdict> underWay = new CoalescedChecks<>();
    private volatile String decoy;

    BasicChecker(BasicUsers users, CheckQueue queue) {
        this.users = users;
        this.queue = queue;
    }

    /** The verdict, at once when remembered or plainly wrong, else when the bcrypt check under way is done. */
    CompletableFuture<CredentialVerdict> check(ProxyAuthorization.Basic c, InetAddress client) {
        if (c.password().length > MAX_PASSWORD_BYTES) {
            return CompletableFuture.completedFuture(new CredentialVerdict.Rejected("password_too_long"));
        }
        ByteBuffer key = cache.keyOf(c.user().getBytes(StandardCharsets.UTF_8), c.password());
        return underWay.verdict(cache, key, queue, client, () -> bcrypt(c, key));
    }

    /** The bcrypt check (on a queue thread), remembered; an unknown user is checked against the decoy. */
    private CredentialVerdict bcrypt(ProxyAuthorization.Basic c, ByteBuffer key) {
        String hash = users.users().get(c.user());
        CredentialVerdict v;
        if (hash == null) {
            BCrypt.checkpw(c.password(), decoy());
            v = new CredentialVerdict.Rejected("unknown_user");
        } else if (BCrypt.checkpw(c.password(), hash)) {
            v = new CredentialVerdict.Verified(new Principal.User(c.user()));
        } else {
            v = new CredentialVerdict.Rejected("wrong_password");
        }
        cache.put(key, v, v instanceof CredentialVerdict.Verified ? GOOD_FOR : BAD_FOR);
        return v;
    }

    /** A hash of nothing anyone knows, at the cost of the file's first hash (10, Apache's default, if none). */
    private String decoy() {
        String d = decoy;
        if (d == null) {
            int cost = users.users().values().stream().findFirst()
                    .map(h -> Integer.parseInt(h.substring(4, 6))).orElse(10);
            d = BCrypt.hashpw(new byte[] {0}, BCrypt.gensalt("$2y", cost));
            decoy = d;
        }
        return d;
    }

    /** Remembered verdicts (for the tests of the cache). */
    int remembered() {
        return cache.size();
    }

    /** Checks under way (for the tests of their bound). */
    int checksUnderWay() {
        return underWay.size();
    }
}
