package io.meshegress.config;

/** "Did you mean" for mistyped keys: typos must not pass silently, and should be easy to fix. */
final class KeySuggestion {
    /** The page that describes every key: in a checkout, and under /usr/share/doc/mesh-egress/ where installed. */
    static final String REFERENCE = "docs/configuration.md";

    private KeySuggestion() {
    }

    static String hint(String key, String... known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(key.toLowerCase(), k.toLowerCase());
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        if (best != null && bestDistance <= Math.max(2, key.length() / 3)) {
            return " (did you mean \"" + best + "\"?)";
        }
        return " (expected one of: " + String.join(", ", known) + "; every key is described in " + REFERENCE + ")";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
