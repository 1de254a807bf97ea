package io.meshegress.proxy.http;

import io.meshegress.policy.HostPattern;
import io.meshegress.text.Quote;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a proxied HTTP request goes, from its request target and {@code Host} (RFC 9112 section 3.2):
 * {@code CONNECT host:port}, absolute-form {@code http://host[:port]/path}, or origin-form {@code /path} routed
 * by {@code Host} (what an Istio sidecar sends). Pure: no sockets, no DNS.
 *
 * @param host      normalized host name or IP literal
 * @param authority the authority as the client wrote it, sent upstream as {@code Host}
 * @param path      the origin-form target to send upstream (null for CONNECT)
 * @param absolute  whether the request came in absolute-form, whose authority replaces any Host header
 */
public record RequestTarget(String host, int port, String authority, String path, boolean absolute) {

    /** A request target that cannot be routed; the message is the 400 response's reason. */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    public static RequestTarget parse(HttpMethod method, String uri, String hostHeader) throws Invalid {
        requireVisibleAscii(uri, "the request target");
        if (hostHeader != null) {
            requireVisibleAscii(hostHeader, "the Host header");
        }
        if (method.equals(HttpMethod.CONNECT)) {
            Authority a = Authority.parse(uri, -1).orElseThrow(() ->
                    new Invalid("CONNECT needs host:port, got " + Quote.shortly(uri)));
            return new RequestTarget(a.host, a.port, uri, null, false);
        }
        if (uri.startsWith("/") || uri.equals("*")) {
            if (hostHeader == null || hostHeader.isEmpty()) {
                throw new Invalid("missing Host header");
            }
            Authority a = Authority.parse(hostHeader, 80).orElseThrow(() ->
                    new Invalid("Host header " + Quote.shortly(hostHeader) + " is not host[:port]"));
            return new RequestTarget(a.host, a.port, hostHeader, uri, false);
        }
        String lower = uri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://")) {
            throw new Invalid("https:// requests go through CONNECT, not as absolute-form");
        }
        if (!lower.startsWith("http://")) {
            throw new Invalid("request target " + Quote.shortly(uri) + " is neither /path, http://host/path nor CONNECT host:port");
        }
        String rest = uri.substring("http://".length());
        int end = 0;
        while (end < rest.length() && rest.charAt(end) != '/' && rest.charAt(end) != '?' && rest.charAt(end) != '#') {
            end++;
        }
        String authority = rest.substring(0, end);
        if (authority.indexOf('@') >= 0) {
            throw new Invalid("credentials in the request URI are not forwarded");
        }
        Authority a = Authority.parse(authority, 80).orElseThrow(() ->
                new Invalid(Quote.shortly(authority) + " in the request URI is not host[:port]"));
        String path = rest.substring(end);
        if (path.isEmpty() || path.startsWith("#")) {
            path = "/";
        } else if (path.startsWith("?")) {
            path = "/" + path;
        }
        int fragment = path.indexOf('#');
        if (fragment >= 0) {
            path = path.substring(0, fragment);
        }
        return new RequestTarget(a.host, a.port, authority, path, true);
    }

    /**
     * RFC 9112 section 3.2 and RFC 9110 section 7.2: the target and Host are visible ASCII (other characters are
     * percent-encoded, names are punycode). A control byte is where parsers disagree (one ends the path there,
     * another keeps it), and a byte above 0x7e is read as ISO-8859-1 here but written on as UTF-8 (the fuzz test
     * found the target changing on its way upstream): nothing routes on either.
     */
    private static void requireVisibleAscii(String text, String where) throws Invalid {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                String what = c == ' ' ? "a space" : c >= 0x80 ? "non-ASCII character 0x" + Integer.toHexString(c)
                        + " (percent-encode it; names in punycode)" : "control character 0x" + Integer.toHexString(c);
                throw new Invalid(what + " in " + where);
            }
        }
    }

    /** host[:port], with IPv6 literals in brackets. */
    private record Authority(String host, int port) {
        static Optional<Authority> parse(String text, int defaultPort) {
            String host;
            String port = null;
            if (text.startsWith("[")) {
                int close = text.indexOf(']');
                if (close < 0) {
                    return Optional.empty();
                }
                host = text.substring(1, close);
                String after = text.substring(close + 1);
                if (after.startsWith(":")) {
                    port = after.substring(1);
                } else if (!after.isEmpty()) {
                    return Optional.empty();
                }
            } else {
                int colon = text.lastIndexOf(':');
                if (colon >= 0) {
                    if (text.indexOf(':') != colon) {
                        return Optional.empty();
                    }
                    host = text.substring(0, colon);
                    port = text.substring(colon + 1);
                } else {
                    host = text;
                }
            }
            int p = defaultPort;
            if (port != null) {
                if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    return Optional.empty();
                }
                p = Integer.parseInt(port);
            }
            if (p < 1 || p > 65535) {
                return Optional.empty();
            }
            int finalPort = p;
            return HostPattern.normalizeHost(host).map(h -> new Authority(h, finalPort));
        }
    }
}
