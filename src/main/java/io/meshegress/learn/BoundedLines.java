package io.meshegress.learn;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Lines of a log, each at most {@link #MAX_LINE} bytes: a longer line is skipped as it streams past, never held
 * (a small gzip file can expand to one line of a gigabyte), and reported as too long with its length. Lines end
 * at {@code \n} (a {@code \r} before it is dropped); bytes are UTF-8.
 */
public final class BoundedLines {
    /** An access-log line of the proxy is a few hundred bytes; a host name is at most 253. */
    public static final int MAX_LINE = 64 * 1024;

    /** What the next line was. */
    public sealed interface Next {
    }

    /** A line within the bound. */
    public record Line(String text) implements Next {
    }

    /** A line longer than the bound, skipped; {@code bytes} is how long it was (without its newline). */
    public record TooLong(long bytes) implements Next {
    }

    /** The end of the input. */
    public record End() implements Next {
    }

    private static final End END = new End();

    private final InputStream in;
    private final byte[] chunk = new byte[64 * 1024];
    private int chunkAt;
    private int chunkEnd;
    private byte[] line = new byte[1024];
    private int lineLength;

    public BoundedLines(InputStream in) {
        this.in = in;
    }

    public Next next() throws IOException {
        lineLength = 0;
        long skipped = -1; // counting a line too long to keep, from when it passed the bound
        while (true) {
            if (chunkAt == chunkEnd) {
                int n = in.read(chunk);
                if (n < 0) {
                    if (skipped >= 0) {
                        return new TooLong(skipped);
                    }
                    return lineLength == 0 ? END : new Line(text());
                }
                chunkAt = 0;
                chunkEnd = n;
            }
            int newline = indexOf(chunk, chunkAt, chunkEnd);
            int end = newline < 0 ? chunkEnd : newline;
            int length = end - chunkAt;
            if (skipped >= 0) {
                skipped += length;
            } else if (lineLength + length > MAX_LINE) {
                skipped = (long) lineLength + length;
                lineLength = 0;
            } else {
                append(chunkAt, length);
            }
            chunkAt = newline < 0 ? chunkEnd : newline + 1;
            if (newline >= 0) {
                return skipped >= 0 ? new TooLong(skipped) : new Line(text());
            }
        }
    }

    private void append(int from, int length) {
        if (lineLength + length > line.length) {
            line = Arrays.copyOf(line, Math.min(MAX_LINE, Math.max(line.length * 2, lineLength + length)));
        }
        System.arraycopy(chunk, from, line, lineLength, length);
        lineLength += length;
    }

    private String text() {
        int length = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
        return new String(line, 0, length, StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
