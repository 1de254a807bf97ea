package io.meshegress.identity;

import io.meshegress.config.EgressConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The HTTP listener's credential checks under one configuration: {@code Proxy-Authorization} read
 * ({@link ProxyAuthorization}), {@code Basic} checked by {@link BasicChecker}, {@code Bearer} by
 * {@link TokenChecker}. Whether a request needs a credential at all is the route table's to say; this says what
 * the one it carries is worth. Without identity.basic and identity.bearer the header is not read.
 */
public final class Credentials {
    public static final String REALM = "mesh-egress";
    public static final Credentials NONE = new Credentials(null, null);

    private final BasicChecker basic;
    private final TokenChecker bearer;

    private Credentials(BasicChecker basic, TokenChecker bearer) {
        this.basic = basic;
        this.bearer = bearer;
    }

    /** The checks of a configuration's identity section; tokens go to {@code identities}' reviewer. */
    public static Credentials of(EgressConfig.Identity identity, Identities identities) {
        if (!identity.credentials()) {
            return NONE;
        }
        return new Credentials(identity.basic() == null ? null : new BasicChecker(identity.basic(), CheckQueue.BCRYPT),
                identity.bearer() == null ? null
                        : new TokenChecker(identity.bearer(), identities.tokenReviewer(), CheckQueue.TOKEN_REVIEW));
    }

    /** Whether requests are asked for credentials at all. */
    public boolean configured() {
        return basic != null || bearer != null;
    }

    /** The {@code Proxy-Authenticate} values of a 407: one per configured scheme. */
    public List<String> challenges() {
        List<String> out = new ArrayList<>(2);
        if (basic != null) {
            out.add("Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
        }
        if (bearer != null) {
            out.add("Bearer realm=\"" + REALM + "\"");
        }
        return out;
    }

    /**
     * What a request's {@code Proxy-Authorization} values are worth: done at once when there is none, when it is
     * unreadable or remembered; else when the check off the caller's thread is done.
     */
    public CompletableFuture<CredentialVerdict> check(List<String> proxyAuthorization, InetAddress client) {
        ProxyAuthorization.Credential c = ProxyAuthorization.parse(proxyAuthorization);
        CompletableFuture<CredentialVerdict> v;
        if (c instanceof ProxyAuthorization.Missing) {
            v = CompletableFuture.completedFuture(CredentialVerdict.ANONYMOUS);
        } else if (c instanceof ProxyAuthorization.Unreadable u) {
            v = CompletableFuture.completedFuture(new CredentialVerdict.Rejected(u.reason()));
        } else if (c instanceof ProxyAuthorization.Basic b) {
            v = basic == null ? rejected("scheme_not_accepted") : basic.check(b, client);
        } else {
            v = bearer == null ? rejected("scheme_not_accepted")
                    : bearer.check((ProxyAuthorization.Bearer) c, client);
        }
        return v.exceptionally(Credentials::unavailable);
    }

    private static CompletableFuture<CredentialVerdict> rejected(String reason) {
        return CompletableFuture.completedFuture(new CredentialVerdict.Rejected(reason));
    }

    private static CredentialVerdict unavailable(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return new CredentialVerdict.Unavailable(cause instanceof CheckQueue.Busy ? "credentials_busy"
                : "credentials_check_failed");
    }
}
