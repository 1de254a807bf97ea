package io.meshegress.config;

import io.meshegress.text.Quote;

/**
 * A configuration problem, rendered as the one line the contract promises:
 * {@code file:line:col: key: message}. Location and key are left out where unknown.
 */
public final class ConfigException extends Exception {
    private final String file;
    private final int line;
    private final int column;
    private final String key;
    private final String problem;

    public ConfigException(String file, int line, int column, String key, String problem) {
        super(render(file, line, column, key, problem), null, false, false);
        this.file = file;
        this.line = line;
        this.column = column;
        this.key = key;
        this.problem = problem;
    }

    /** Longest key path and problem text a message carries: a hostile file must not make a huge log line. */
    private static final int MAX_KEY = 120;
    private static final int MAX_PROBLEM = 400;

    /** {@code file:line:col: key: problem}, capped and on one line (warnings are rendered the same way). */
    static String render(String file, int line, int column, String key, String problem) {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
            if (column > 0) {
                sb.append(':').append(column);
            }
        }
        sb.append(": ");
        if (key != null && !key.isEmpty()) {
            sb.append(oneLine(key, MAX_KEY)).append(": ");
        }
        return sb.append(oneLine(problem, MAX_PROBLEM)).toString();
    }

    /**
     * Control characters escaped, then at most {@code max} characters of that, so the message stays one short line:
     * the bound is on what is printed (each escape is four characters), never on the text before escaping.
     */
    private static String oneLine(String text, int max) {
        String escaped = Quote.escapeControls(text.length() > max ? text.substring(0, max + 1) : text);
        return escaped.length() > max ? escaped.substring(0, max) + "..." : escaped;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    public String key() {
        return key;
    }

    public String problem() {
        return problem;
    }
}
