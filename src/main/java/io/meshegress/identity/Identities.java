package io.meshegress.identity;

import java.net.InetAddress;

/** Names client addresses: the Kubernetes watch, or nothing when {@code identity.kubernetes} is absent. */
public interface Identities {

    /** No watch: every address is no pod, and nothing waits for a list. */
    Identities NONE = new Identities() {
        @Override
        public ClientIdentity identify(InetAddress client) {
            return ClientIdentity.NO_POD;
        }

        @Override
        public boolean ready() {
            return true;
        }
    };

    ClientIdentity identify(InetAddress client);

    /** Whether the first full list has arrived (always, without a watch). */
    boolean ready();

    /** The API server's TokenReview through the watch's client, or null without a watch. */
    default TokenReviewer tokenReviewer() {
        return null;
    }
}
