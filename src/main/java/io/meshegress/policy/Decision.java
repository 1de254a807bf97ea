package io.meshegress.policy;

/**
 * The outcome of one policy check, as a value: allowed or refused, and the rule that decided it, in the
 * words an operator will search the config for ({@code policy.deny[0] "*.evil.com"}).
 */
public record Decision(boolean allowed, String rule) {

    public static Decision allow(String rule) {
        return new Decision(true, rule);
    }

    public static Decision refuse(String rule) {
        return new Decision(false, rule);
    }

    @Override
    public String toString() {
        return (allowed ? "allowed by " : "refused by ") + rule;
    }
}
