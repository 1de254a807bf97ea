package io.meshegress.proxy;

import io.meshegress.policy.Decision;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * A destination with the route table's verdict on it (Envoy's route: where a request goes, or that it goes
 * nowhere). Only an {@link Allowed} route can open an upstream, and it opens at most once; a {@link Refused} one
 * has no way to reach an upstream at all. Every listener asks {@link UpstreamConnector#route} and answers a
 * refusal in its own terms (an HTTP status, a TLS alert).
 */
public sealed interface Route permits Route.Allowed, Route.Refused {

    Destination destination();

    RouteTable.Verdict verdict();

    /**
     * The route table allowed it (in report mode perhaps with the refusal enforce mode would have made). Made
     * only by the spine; confined to the client's event loop like the connection that asked.
     */
    final class Allowed implements Route {
        private enum State { DECIDED, OPENED }

        private final Destination destination;
        private final RouteTable.Verdict verdict;
        private final UpstreamConnector connector;
        private State state = State.DECIDED;

        Allowed(Destination destination, RouteTable.Verdict verdict, UpstreamConnector connector) {
            if (!verdict.allowed()) {
                throw new IllegalArgumentException("a refused verdict is no allowed route: " + verdict);
            }
            this.destination = destination;
            this.verdict = verdict;
            this.connector = connector;
        }

        @Override
        public Destination destination() {
            return destination;
        }

        @Override
        public RouteTable.Verdict verdict() {
            return verdict;
        }

        /** The rule that allowed it, as the access log names it. */
        public String rule() {
            return verdict.decision().rule();
        }

        /** In report mode, the refusal enforce mode would have made; else null. */
        public Decision wouldRefuse() {
            return verdict.wouldRefuse();
        }

        /**
         * Resolves, checks every address and connects; the future completes on {@code loop} and never fails.
         * Once per route: a second upstream for one decision would be a decision nobody made.
         */
        public Future<UpstreamOutcome> open(EventLoop loop) {
            if (state == State.OPENED) {
                throw new IllegalStateException("the route to " + destination.host() + ":" + destination.port()
                        + " was opened already");
            }
            state = State.OPENED;
            return connector.open(destination, rule(), loop);
        }
    }

    /** The route table refused it: the listener answers with {@link #refusal()} and opens nothing. */
    record Refused(Destination destination, RouteTable.Verdict verdict) implements Route {
        public Refused {
            if (verdict.allowed()) {
                throw new IllegalArgumentException("an allowed verdict is no refused route: " + verdict);
            }
        }

        public Refusal refusal() {
            return verdict.refusal();
        }

        /** {@code refused by RULE}, as the access log and {@code check} print it. */
        public String reason() {
            return verdict.toString();
        }

        /** The same refusal as the spine's outcome, for a listener that answers both kinds alike. */
        public UpstreamOutcome.Refused outcome() {
            return new UpstreamOutcome.Refused(refusal(), reason(), null);
        }
    }
}
