package io.meshegress.policy;

/**
 * What a role does with a refusal by its name and port rules: {@code enforce} refuses; {@code report} lets the
 * connection through and logs what enforce would have refused, so an allow-list can be learned before it bites.
 * Report never relaxes the global rules (policy.deny, denyNetworks, clients, the loop guard) or malformed input.
 */
public enum PolicyMode {
    ENFORCE, REPORT;

    /** As the config spells it. */
    public String word() {
        return this == ENFORCE ? "enforce" : "report";
    }
}
