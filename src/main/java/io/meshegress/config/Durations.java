package io.meshegress.config;

import io.meshegress.text.Quote;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in the file and on the command line: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h},
 * {@code 7d}, or sums like {@code 1m30s}. A day is 24 hours (a duration, not a calendar day).
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
    /** 100 days. */
    public static final Duration MAX = Duration.ofDays(100);
    private static final Duration BEYOND_MAX = MAX.plusMillis(1);

    private Durations() {
    }

    /** Parses, or throws {@link IllegalArgumentException} with a message meant for the user. */
    public static Duration parse(String text) {
        String t = text.strip();
        Matcher m = PART.matcher(t);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < t.length() && m.find(at) && m.start() == at) {
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    total = total.plusMillis(n);
                    break;
                case "s":
                    total = total.plusSeconds(n);
                    break;
                case "m":
                    total = total.plusMinutes(n);
                    break;
                case "h":
                    total = total.plusHours(n);
                    break;
                default:
                    total = total.plusDays(n);
                    break;
            }
            at = m.end();
            if (total.compareTo(MAX) > 0) {
                total = BEYOND_MAX; // still too long, and a sum of many long parts never overflows Duration
            }
        }
        if (t.isEmpty() || at != t.length()) {
            throw new IllegalArgumentException(Quote.shortly(text) + " is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)");
        }
        if (total.compareTo(MAX) > 0) {
            // Timers count in nanoseconds (292 years at most); no timeout here has a use beyond weeks.
            throw new IllegalArgumentException(Quote.shortly(text) + " is longer than the longest duration, "
                    + format(MAX));
        }
        return total;
    }

    /** The shortest way to write it back in the file's units. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms > 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0 && ms > 0) {
            return ms / 1000 + "s";
        }
        if (ms < 1_000_000_000) {
            return ms + "ms";
        }
        // A number of nine digits at most per unit, as parse reads it (the fuzz test found 1304100175ms).
        return ms / 3_600_000 + "h" + ms / 60_000 % 60 + "m" + ms / 1000 % 60 + "s" + ms % 1000 + "ms";
    }
}
