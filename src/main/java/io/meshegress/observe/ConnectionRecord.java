package io.meshegress.observe;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * What is known about one connection as it goes along the path, written to the access log once at the end.
 * Confined to the connection's event loop, so it needs no locking.
 */
public final class ConnectionRecord {
    private final AccessLog log;
    private final Instant start = Instant.now();
    private final long startNanos = System.nanoTime();
    private final String listener;
    private final String kind;
    private final String client;
    private String role;
    private String user;
    private final String peer;
    private AccessEntry.Workload workload;
    private String wouldRefuse;
    private String host;
    private int port;
    private String resolved;
    private boolean allowed;
    private String reason = "";
    private int status;
    private String alert;
    private long bytesUp;
    private long bytesDown;
    private boolean finished;
    private boolean tunnel;

    /**
     * @param role the client's role ({@code default} when it is in none)
     * @param peer the TCP peer when a PROXY header named the client; else null
     */
    public ConnectionRecord(AccessLog log, String listener, String kind, InetSocketAddress client, String role,
                            InetSocketAddress peer) {
        this.log = log;
        this.role = role;
        this.peer = peer == null ? null : peer.getAddress().getHostAddress() + ":" + peer.getPort();
        this.listener = listener;
        this.kind = kind;
        this.client = client == null ? "" : client.getAddress().getHostAddress() + ":" + client.getPort();
    }

    /** The pod the client was known as at accept (null: none). */
    public ConnectionRecord workload(AccessEntry.Workload w) {
        this.workload = w;
        return this;
    }

    /**
     * A request's verified credential: the role it selected, the user it names ({@code system:serviceaccount:NS:SA}
     * for a token), and for a token its namespace and service account (with the pod where the connection's pod is
     * that account's; else null).
     */
    public ConnectionRecord principal(String requestRole, String userName, AccessEntry.Workload w) {
        this.role = requestRole;
        this.user = userName;
        if (w != null) {
            this.workload = w;
        }
        return this;
    }

    public ConnectionRecord destination(String host, int port) {
        this.host = host;
        this.port = port;
        return this;
    }

    public ConnectionRecord resolved(InetSocketAddress address) {
        this.resolved = address == null ? null : address.getAddress().getHostAddress();
        return this;
    }

    public ConnectionRecord allowed(String reason, int status) {
        this.allowed = true;
        this.reason = reason;
        this.status = status;
        return this;
    }

    public ConnectionRecord refused(String reason, int status, String alert) {
        this.allowed = false;
        this.reason = reason;
        this.status = status;
        this.alert = alert;
        return this;
    }

    /** Report mode let this through; {@code refusal} is what enforce mode would have said (null: nothing). */
    public ConnectionRecord wouldRefuse(Object refusal) {
        this.wouldRefuse = refusal == null ? null : refusal.toString();
        return this;
    }

    public void addBytesUp(long n) {
        bytesUp += n;
    }

    public void addBytesDown(long n) {
        bytesDown += n;
    }

    /** The connection became a tunnel: counted as active until it finishes. */
    public void tunnelStarted() {
        if (!tunnel) {
            tunnel = true;
            log.tunnelOpened(listener);
        }
    }

    public boolean isFinished() {
        return finished;
    }

    /** Writes the line; later calls do nothing, so every path may call it. */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (tunnel) {
            log.tunnelClosed(listener);
        }
        long ms = (System.nanoTime() - startNanos) / 1_000_000;
        log.log(new AccessEntry(start, listener, client, peer, role, kind, host, port, resolved,
                allowed ? "allowed" : "refused", reason, allowed ? wouldRefuse : null, status, alert, bytesUp,
                bytesDown, ms, workload, user));
    }
}
