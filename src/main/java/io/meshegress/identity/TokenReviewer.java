package io.meshegress.identity;

import java.util.List;
import java.util.Map;

/** The API server's TokenReview (authentication.k8s.io/v1), as the credential check needs it. */
public interface TokenReviewer {

    /**
     * The API server's answer for one token.
     *
     * @param username  status.user.username ({@code system:serviceaccount:NS:SA} for a service account's token)
     * @param audiences status.audiences: those of the spec's audiences the token is good for
     */
    record Review(boolean authenticated, String username, List<String> audiences) {
        public Review {
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
        }
    }

    /** Asks the API server; throws when it cannot be asked (unreachable, forbidden, timed out). */
    Review review(String token, String audience) throws Exception;

    /** The labels of a namespace as the watch knows them (empty when it does not). */
    Map<String, String> namespaceLabels(String namespace);
}
