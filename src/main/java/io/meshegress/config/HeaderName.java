package io.meshegress.config;

import io.meshegress.text.Quote;
import java.util.Locale;
import java.util.Set;

/**
 * A header name in {@code http.stripHeaders}: an RFC 9110 token (section 5.6.2), kept in lower case (names
 * are case-insensitive, section 5.1). The headers that frame or route a request cannot be named: removing
 * Content-Length or Transfer-Encoding would change where the next request starts (request smuggling), and
 * Host is what the policy judged.
 */
final class HeaderName {
    private static final String TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";
    private static final Set<String> FRAMING = Set.of("host", "content-length", "transfer-encoding");

    private HeaderName() {
    }

    static String parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("an empty header name");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean tchar = c < 128 && (Character.isLetterOrDigit(c) || TCHAR_SYMBOLS.indexOf(c) >= 0);
            if (!tchar) {
                throw new IllegalArgumentException(Quote.shortly(text) + " is not a header name (RFC 9110 token: "
                        + "letters, digits and " + TCHAR_SYMBOLS + ")");
            }
        }
        String name = text.toLowerCase(Locale.ROOT);
        if (FRAMING.contains(name)) {
            throw new IllegalArgumentException(name + " cannot be stripped: it frames or routes the request");
        }
        return name;
    }
}
