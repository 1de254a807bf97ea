package io.meshegress.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads a configuration file as untrusted input, for {@code run}, {@code check}, {@code istio} and every reload
 * alike: only a regular file (a FIFO would hang the reader, {@code /dev/zero} would fill the heap), at most
 * {@link #MAX_BYTES}, valid UTF-8, and not empty. Each refusal is one {@link ConfigException} line.
 */
public final class ConfigFile {
    /** Far above any real configuration (the write-up's is under 1 KiB; 10,000 patterns fit in 300 KiB). */
    public static final int MAX_BYTES = 1024 * 1024;

    private ConfigFile() {
    }

    /** The file's text, checked as above. */
    public static String read(Path path) throws ConfigException {
        return decode(path.toString(), readBytes(path));
    }

    /** The file's bytes: a regular file (links followed) of at most {@link #MAX_BYTES}. */
    public static byte[] readBytes(Path path) throws ConfigException {
        String name = path.toString();
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                throw new ConfigException(name, 0, 0, "", "not a regular file (" + (a.isDirectory() ? "a directory"
                        : "a device, FIFO or socket") + "); the configuration must be a file");
            }
            if (a.size() > MAX_BYTES) {
                throw tooLarge(name, a.size());
            }
            try (InputStream in = Files.newInputStream(path)) {
                // The file may grow between the look and the read: never read more than the limit and one byte.
                byte[] bytes = in.readNBytes(MAX_BYTES + 1);
                if (bytes.length > MAX_BYTES) {
                    throw tooLarge(name, bytes.length);
                }
                return bytes;
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, 0, 0, "", "no such file");
        } catch (IOException e) {
            throw new ConfigException(name, 0, 0, "", "cannot read: " + e.getMessage());
        }
    }

    /** Strict UTF-8 (the position of the first bad byte in the message); an empty file is refused. */
    public static String decode(String name, byte[] bytes) throws ConfigException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        String text;
        try {
            text = decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int bad = firstInvalidUtf8(bytes);
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < bad; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            throw new ConfigException(name, line, bad - lineStart + 1, "", String.format(
                    "not UTF-8 (byte 0x%02x); save the file as UTF-8", bytes[Math.min(bad, bytes.length - 1)] & 0xff));
        }
        if (isEmpty(text)) {
            // One rule at start and on reload: an empty file is almost surely one caught half-written, and
            // "no file" is how to ask for the embedded defaults.
            throw new ConfigException(name, 0, 0, "", "the file is empty (no keys); to run on the embedded defaults, "
                    + "give no -c");
        }
        return text;
    }

    private static boolean isEmpty(String text) {
        for (String line : text.split("\n", -1)) {
            String t = line.strip();
            if (!t.isEmpty() && !t.startsWith("#") && !t.equals("---") && !t.equals("...")) {
                return false;
            }
        }
        return true;
    }

    /** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
    static int firstInvalidUtf8(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xff;
            int n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
            if (n < 0 || i + n >= b.length) {
                return i;
            }
            for (int k = 1; k <= n; k++) {
                if ((b[i + k] & 0xc0) != 0x80) {
                    return i;
                }
            }
            if (!validSequence(b, i, n)) {
                return i;
            }
            i += n + 1;
        }
        return Math.max(0, b.length - 1);
    }

    /** Overlong forms, surrogates and code points above U+10FFFF are invalid too. */
    private static boolean validSequence(byte[] b, int i, int n) {
        int c0 = b[i] & 0xff;
        int c1 = n > 0 ? b[i + 1] & 0xff : 0;
        return switch (n) {
            case 2 -> !(c0 == 0xe0 && c1 < 0xa0) && !(c0 == 0xed && c1 >= 0xa0);
            case 3 -> !(c0 == 0xf0 && c1 < 0x90) && !(c0 == 0xf4 && c1 >= 0x90);
            default -> true;
        };
    }

    private static ConfigException tooLarge(String name, long size) {
        return new ConfigException(name, 0, 0, "", "the file is " + size + " bytes; a configuration is at most "
                + MAX_BYTES + " bytes (1 MiB)");
    }
}
