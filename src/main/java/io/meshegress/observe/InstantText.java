package io.meshegress.observe;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Formats an instant exactly as {@link Instant#toString()} does (ISO-8601 in UTC with the shortest of 0, 3, 6
 * or 9 fraction digits), keeping the date and time of the last second it formatted: a busy access log formats
 * each second's date once instead of running {@code DateTimeFormatter} for every line (it was an eighth of
 * the writer thread's time under load). Not thread-safe: one per writer.
 */
final class InstantText {
    /** 10000-01-01T00:00:00Z: from here on (and before 1970) {@code Instant.toString} is used as it is. */
    private static final long FIRST_FIVE_DIGIT_YEAR = 253_402_300_800L;
    /** Long enough for the longest {@code Instant.toString}: {@code +1000000000-12-31T23:59:59.999999999Z}. */
    private final char[] chars = new char[40];
    private long second = Long.MIN_VALUE;

    /** Formats {@code t} into {@link #chars()} and returns its length. */
    int format(Instant t) {
        long s = t.getEpochSecond();
        if (s < 0 || s >= FIRST_FIVE_DIGIT_YEAR) {
            String text = t.toString();
            text.getChars(0, text.length(), chars, 0);
            second = Long.MIN_VALUE; // the cached date in chars was overwritten
            return text.length();
        }
        if (s != second) {
            LocalDateTime d = LocalDateTime.ofEpochSecond(s, 0, ZoneOffset.UTC);
            digits(0, 4, d.getYear());
            chars[4] = '-';
            digits(5, 2, d.getMonthValue());
            chars[7] = '-';
            digits(8, 2, d.getDayOfMonth());
            chars[10] = 'T';
            digits(11, 2, d.getHour());
            chars[13] = ':';
            digits(14, 2, d.getMinute());
            chars[16] = ':';
            digits(17, 2, d.getSecond());
            second = s;
        }
        int n = 19;
        int nano = t.getNano();
        if (nano != 0) {
            chars[n++] = '.';
            if (nano % 1_000_000 == 0) {
                digits(n, 3, nano / 1_000_000);
                n += 3;
            } else if (nano % 1_000 == 0) {
                digits(n, 6, nano / 1_000);
                n += 6;
            } else {
                digits(n, 9, nano);
                n += 9;
            }
        }
        chars[n++] = 'Z';
        return n;
    }

    /** What the last {@link #format} wrote, from index 0. */
    char[] chars() {
        return chars;
    }

    private void digits(int at, int width, int value) {
        for (int i = at + width - 1; i >= at; i--) {
            chars[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
