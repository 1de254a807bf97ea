package io.meshegress.identity;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A request's {@code Proxy-Authorization} header as a value, pure: {@code Basic} (RFC 7617: base64 of
 * {@code user-id ":" password}, the user-id UTF-8, the password kept as the bytes the client sent, which is
 * what htpasswd hashed) or {@code Bearer} (RFC 6750's b64token), the scheme matched case-insensitively (RFC 9110
 * section 11.1). Nothing here echoes a credential: the reasons name what is wrong, never what was sent.
 */
public final class ProxyAuthorization {
    /** Far above a Kubernetes token (about 1 KiB); a longer header is no credential of ours. */
    static final int MAX_LENGTH = 8192;
    private static final Pattern TOKEN68 = Pattern.compile("[A-Za-z0-9\\-._~+/]+=*");

    /** What the header holds. */
    public sealed interface Credential {
    }

    /** No header: the request says nothing of who it is. */
    public record Missing() implements Credential {
    }

    /** {@code Basic}: a user and the password's bytes (compared, never logged or kept beyond the check). */
    public record Basic(String user, byte[] password) implements Credential {
        @Override
        public String toString() {
            return "Basic " + user;
        }
    }

    /** {@code Bearer}: a token (a Kubernetes service-account token, for identity.bearer). */
    public record Bearer(String token) implements Credential {
        @Override
        public String toString() {
            return "Bearer";
        }
    }

    /** Not a credential we can read, with the reason word the access log gives. */
    public record Unreadable(String reason) implements Credential {
    }

    public static final Credential MISSING = new Missing();

    private ProxyAuthorization() {
    }

    /** The credential of a request's {@code Proxy-Authorization} values (none: {@link Missing}). */
    public static Credential parse(List<String> values) {
        if (values.isEmpty()) {
            return MISSING;
        }
        if (values.size() > 1) {
            return new Unreadable("credentials_malformed");
        }
        String v = values.get(0).strip();
        if (v.length() > MAX_LENGTH) {
            return new Unreadable("credentials_malformed");
        }
        int space = v.indexOf(' ');
        String scheme = (space < 0 ? v : v.substring(0, space)).toLowerCase(Locale.ROOT);
        String rest = space < 0 ? "" : v.substring(space + 1).strip();
        return switch (scheme) {
            case "basic" -> basic(rest);
            case "bearer" -> TOKEN68.matcher(rest).matches() ? new Bearer(rest) : new Unreadable("credentials_malformed");
            default -> new Unreadable("scheme_not_accepted");
        };
    }

    private static Credential basic(String token68) {
        if (!TOKEN68.matcher(token68).matches()) {
            return new Unreadable("credentials_malformed");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(token68);
        } catch (IllegalArgumentException e) {
            return new Unreadable("credentials_malformed");
        }
        int colon = -1;
        for (int i = 0; i < decoded.length; i++) {
            if (decoded[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= 0) {
            Arrays.fill(decoded, (byte) 0);
            return new Unreadable("credentials_malformed");
        }
        String user;
        try {
            user = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(decoded, 0, colon)).toString();
        } catch (CharacterCodingException e) {
            Arrays.fill(decoded, (byte) 0);
            return new Unreadable("credentials_malformed");
        }
        byte[] password = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
        Arrays.fill(decoded, (byte) 0);
        return new Basic(user, password);
    }
}
