package io.meshegress.observe;

import java.time.Instant;

/**
 * One access-log line: a connection (sni, connect) or a request (http).
 *
 * @param status HTTP status sent for http and connect; for sni the same scale (200 tunnelled, 403 refused by
 *               policy, 400 not a usable ClientHello, 408 ClientHello too slow, 502 unresolvable or unreachable,
 *               504 upstream connect timeout), so one dashboard serves every listener
 * @param alert  the TLS alert sent (sni only), or null
 * @param peer   the TCP peer when a PROXY protocol header named the client; else null
 * @param role   the client's role ({@code default}: in no named role)
 * @param workload the client's pod, namespace and service account where identity.kubernetes knew it; else null
 * @param wouldRefuse what enforce mode would have refused, when report mode let an allowed connection through;
 *               else null
 * @param user   the user a request's verified credential names (a Basic user, or system:serviceaccount:NS:SA);
 *               else null. Never the credential itself.
 */
public record AccessEntry(Instant time, String listener, String client, String peer, String role, String kind, String host,
                          int port, String resolved, String decision, String reason, String wouldRefuse,
                          int status, String alert,
                          long bytesUp, long bytesDown, long durationMs, Workload workload, String user) {

    /**
     * The pod a client was known as when its connection was accepted.
     *
     * @param pod the pod's name (null for a service account's token from no pod of that account)
     */
    public record Workload(String namespace, String serviceAccount, String pod) {
    }

    /** A line of a request with no verified credential. */
    public AccessEntry(Instant time, String listener, String client, String peer, String role, String kind, String host,
                       int port, String resolved, String decision, String reason, String wouldRefuse, int status,
                       String alert, long bytesUp, long bytesDown, long durationMs, Workload workload) {
        this(time, listener, client, peer, role, kind, host, port, resolved, decision, reason, wouldRefuse, status,
                alert, bytesUp, bytesDown, durationMs, workload, null);
    }

    /** A line of a client that is no known pod. */
    public AccessEntry(Instant time, String listener, String client, String peer, String role, String kind, String host,
                       int port, String resolved, String decision, String reason, String wouldRefuse, int status,
                       String alert, long bytesUp, long bytesDown, long durationMs) {
        this(time, listener, client, peer, role, kind, host, port, resolved, decision, reason, wouldRefuse, status,
                alert, bytesUp, bytesDown, durationMs, null, null);
    }
}
