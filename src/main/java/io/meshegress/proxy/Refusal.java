package io.meshegress.proxy;

/**
 * Why a destination was not connected, in categories each listener maps to its own answer (an HTTP status,
 * a TLS alert). {@code nameProblem} marks the ones the SNI listener answers with {@code unrecognized_name}.
 */
public enum Refusal {
    CLIENT_DENIED(403, false),
    /** identity.kubernetes has not listed the cluster's pods yet: no client can be named. */
    IDENTITY_NOT_READY(503, false),
    NAME_DENIED(403, true),
    PORT_DENIED(403, false),
    NAME_INVALID(400, true),
    NAME_UNRESOLVED(502, true),
    NETWORK_DENIED(403, false),
    LOOP(508, false),
    CONNECT_FAILED(502, false),
    CONNECT_TIMEOUT(504, false);

    private final int httpStatus;
    private final boolean nameProblem;

    Refusal(int httpStatus, boolean nameProblem) {
        this.httpStatus = httpStatus;
        this.nameProblem = nameProblem;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public boolean nameProblem() {
        return nameProblem;
    }
}
