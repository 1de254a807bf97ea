package io.meshegress.text;

/**
 * Quotes a value that came from outside (a config file, a request, a DNS answer) for a one-line message: about
 * {@value #MAX_CHARS} characters of it, with control characters, quotes and backslashes escaped, so that a
 * hostile or huge value can neither fill a log nor break it into lines.
 */
public final class Quote {
    public static final int MAX_CHARS = 48;

    private Quote() {
    }

    /** Every control character of {@code value} (C0, DEL, C1, the Unicode line separators) escaped as {@code \\xNN}. */
    public static String escapeControls(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (isControl(value.charAt(i))) {
                StringBuilder out = new StringBuilder(value.length() + 8).append(value, 0, i);
                for (int j = i; j < value.length(); j++) {
                    char c = value.charAt(j);
                    out.append(isControl(c) ? escaped(c) : String.valueOf(c));
                }
                return out.toString();
            }
        }
        return value;
    }

    private static boolean isControl(char c) {
        return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029';
    }

    private static String escaped(char c) {
        return String.format("\\x%02x", (int) c);
    }

    /**
     * {@code "value"}, or {@code "first 48 characters..." (1234 characters)} when longer. The bound is on what is
     * printed, escapes included, so a value of control characters cannot make the line four times as long.
     */
    public static String shortly(CharSequence value) {
        if (value == null) {
            return "null";
        }
        int n = value.length();
        StringBuilder out = new StringBuilder(MAX_CHARS + 32).append('"');
        int i = 0;
        for (; i < n && out.length() <= MAX_CHARS; i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (isControl(c)) {
                out.append(escaped(c));
            } else {
                out.append(c);
            }
        }
        out.append(i < n ? "...\"" : "\"");
        if (i < n) {
            out.append(" (").append(n).append(" characters)");
        }
        return out.toString();
    }
}
