package io.meshegress.config;

import io.meshegress.text.Quote;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code identity.basic.file}: an htpasswd file of bcrypt lines, {@code user:$2y$10$...}, as Apache's
 * {@code htpasswd -B} writes them. Read as untrusted input like the config itself ({@link ConfigFile}: a regular
 * file, at most 1 MiB, UTF-8). Blank lines and lines starting with {@code #} are skipped, as Apache skips them.
 * Every other line must be {@code USER:BCRYPT}; an MD5 ({@code $apr1$}), SHA-1 ({@code {SHA}}), crypt or plain-text
 * line is refused with its file:line, since those hashes are too fast to stand a stolen file. Pure apart from the
 * one read.
 */
public final class HtpasswdFile {
    /**
     * Modular crypt format of bcrypt: version 2a, 2b or 2y, a two-digit cost from 04 to 31, then 22 characters of
     * salt and 31 of hash in bcrypt's base-64 alphabet.
     */
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");

    private HtpasswdFile() {
    }

    /** Reads and parses the file at {@code path}. */
    public static Map<String, String> read(Path path) throws ConfigException {
        String name = path.toString();
        return parse(name, ConfigFile.decode(name, ConfigFile.readBytes(path)));
    }

    /** User name to bcrypt hash, in file order. */
    public static Map<String, String> parse(String file, String text) throws ConfigException {
        Map<String, String> users = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw error(file, lineNo, "not USER:HASH (make lines with htpasswd -B)");
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1);
            String badUser = userProblem(user);
            if (badUser != null) {
                throw error(file, lineNo, badUser);
            }
            if (!BCRYPT.matcher(hash).matches()) {
                throw error(file, lineNo, "user " + Quote.shortly(user) + ": " + kind(hash)
                        + "; only bcrypt hashes are accepted (htpasswd -B)");
            }
            Integer first = lineOf.putIfAbsent(user, lineNo);
            if (first != null) {
                throw error(file, lineNo, "user " + Quote.shortly(user) + " is already defined at line " + first);
            }
            users.put(user, hash);
        }
        return users;
    }

    /**
     * Why a user name cannot be one (null: it can): Basic's user-id may not contain a colon (RFC 7617 section 2),
     * and control characters or surrounding spaces would make names that look alike in logs and configs.
     */
    public static String userProblem(String user) {
        if (user.isEmpty()) {
            return "an empty user name";
        }
        if (user.length() > 255) {
            return "a user name longer than 255 characters";
        }
        if (!user.strip().equals(user)) {
            return "user " + Quote.shortly(user) + " begins or ends with white space";
        }
        for (int i = 0; i < user.length(); i++) {
            char c = user.charAt(i);
            if (c == ':' || Character.isISOControl(c)) {
                return "user " + Quote.shortly(user) + " holds a colon or a control character";
            }
        }
        return null;
    }

    /** What a line that is not bcrypt holds, as far as its prefix tells (the hash itself is never echoed). */
    private static String kind(String hash) {
        if (hash.startsWith("$apr1$")) {
            return "an MD5 (apr1) hash";
        }
        if (hash.startsWith("{SHA}")) {
            return "a SHA-1 ({SHA}) hash";
        }
        if (hash.startsWith("$1$") || hash.startsWith("$5$") || hash.startsWith("$6$")) {
            return "a crypt(3) MD5 or SHA-2 hash";
        }
        if (hash.startsWith("$2")) {
            return "a malformed bcrypt hash (version 2a, 2b or 2y, cost 04 to 31, 53 characters after it)";
        }
        if (hash.length() == 13) {
            return "a DES crypt hash or a plain-text password";
        }
        return "no bcrypt hash (a plain-text password?)";
    }

    private static ConfigException error(String file, int line, String message) {
        return new ConfigException(file, line, 0, "", message);
    }
}
