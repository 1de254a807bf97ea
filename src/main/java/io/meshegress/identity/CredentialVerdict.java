package io.meshegress.identity;

import io.meshegress.policy.Principal;

/** What a request's credential comes to: a principal, a refusal (407), or no answer to be had now (503). */
public sealed interface CredentialVerdict {

    /** The credential is good: the request is this principal's. */
    record Verified(Principal principal) implements CredentialVerdict {
    }

    /** A bad credential (or none where one is required): 407, with the reason word the access log gives. */
    record Rejected(String reason) implements CredentialVerdict {
    }

    /** It could not be checked now (too many checks waiting, the API server unreachable): 503. */
    record Unavailable(String reason) implements CredentialVerdict {
    }

    /** No credential and none needed: the request keeps the role of its address or pod. */
    record Anonymous() implements CredentialVerdict {
    }

    CredentialVerdict ANONYMOUS = new Anonymous();
}
