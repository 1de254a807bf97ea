package io.meshegress.policy;

import io.meshegress.text.Quote;
import io.netty.util.NetUtil;
import java.net.IDN;
import java.util.Locale;
import java.util.Optional;

/**
 * A host pattern with Istio's and Envoy's meaning: {@code api.example.com} matches that name only,
 * {@code *.example.com} every name below example.com at any depth (not the apex), {@code *} every name.
 * Patterns and hosts are compared in lower-case ASCII (IDN names in punycode), one trailing dot ignored.
 */
public record HostPattern(Kind kind, String value) {

    public enum Kind { EXACT, SUFFIX, ANY }

    /** For {@code SUFFIX}, {@code value} is the suffix without the leading {@code *.}. */
    public HostPattern {
    }

    public static final HostPattern ANY = new HostPattern(Kind.ANY, "*");

    /**
     * Parses a pattern, or throws {@link IllegalArgumentException} with a message meant for the user
     * (the caller adds file, line and key).
     */
    public static HostPattern parse(String text) {
        String quoted = Quote.shortly(text);
        if (text.equals("*")) {
            return ANY;
        }
        String name = stripTrailingDot(text.strip());
        if (!name.equals(text.strip()) && name.endsWith(".")) {
            throw new IllegalArgumentException(quoted + " is not a host pattern (more than one trailing dot)");
        }
        if (name.startsWith("*")) {
            int lastWildcard = name.lastIndexOf("*.");
            String rest = lastWildcard >= 0 ? name.substring(lastWildcard + 2) : "";
            if (!rest.isEmpty() && !rest.contains("*") && (lastWildcard > 0 || !name.startsWith("*."))) {
                // "*.*.qq.com", "**.qq.com": the user wants "any depth", which "*.qq.com" already is.
                throw new IllegalArgumentException(quoted
                        + " is not a host pattern (a wildcard may only be the first label): " + Quote.shortly("*." + rest)
                        + " already matches any depth");
            }
        }
        if (name.startsWith("*.") && !name.substring(2).contains("*")) {
            String suffix = name.substring(2);
            String ascii = toAsciiName(suffix).orElseThrow(() -> new IllegalArgumentException(
                    quoted + " is not a host pattern (" + nameProblem(suffix) + ")"));
            return new HostPattern(Kind.SUFFIX, ascii);
        }
        if (name.contains("*")) {
            throw new IllegalArgumentException(quoted
                    + " is not a host pattern (a wildcard may only be the first label, as in \"*.example.com\")");
        }
        if (NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name)) {
            return new HostPattern(Kind.EXACT, ipLiteral(name));
        }
        String ascii = toAsciiName(name).orElseThrow(() -> new IllegalArgumentException(
                quoted + " is not a host pattern (" + nameProblem(name) + ")"));
        return new HostPattern(Kind.EXACT, canonicalIfLiteral(ascii));
    }

    private static String canonicalIfLiteral(String ascii) {
        return NetUtil.isValidIpV4Address(ascii) || NetUtil.isValidIpV6Address(ascii) ? ipLiteral(ascii) : ascii;
    }

    /**
     * Whether this pattern matches a host already passed through {@link #normalizeHost}. An IP literal is
     * matched only by a pattern that is that literal: addresses are the business of denyNetworks.
     */
    public boolean matches(String normalizedHost) {
        if (kind != Kind.EXACT && isIpLiteral(normalizedHost)) {
            return false;
        }
        switch (kind) {
            case ANY:
                return true;
            case EXACT:
                return value.equals(normalizedHost);
            default:
                return normalizedHost.length() > value.length() + 1
                        && normalizedHost.endsWith(value)
                        && normalizedHost.charAt(normalizedHost.length() - value.length() - 1) == '.';
        }
    }

    /**
     * The canonical form of a host as requested on the wire: lower case, one trailing dot removed, IDN in
     * punycode, IPv6 literals without brackets in their compressed form. Empty if it is no valid name.
     */
    public static Optional<String> normalizeHost(String host) {
        if (host == null || host.isEmpty()) {
            return Optional.empty();
        }
        String h = host;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        // The dot goes before the literal test: "6.6.6.06." is the address 6.6.6.6, and must normalize to the
        // same string as every other spelling of it, or a literal pattern would miss it (found by fuzzing).
        h = stripTrailingDot(h);
        if (NetUtil.isValidIpV4Address(h) || NetUtil.isValidIpV6Address(h)) {
            return Optional.of(ipLiteral(h));
        }
        // IDN maps other dots and digits to ASCII ("06\u300266.36.6"): what comes out may be an address too.
        return toAsciiName(h).map(HostPattern::canonicalIfLiteral);
    }

    /** Whether a normalized host is an IPv4 or IPv6 literal rather than a name. */
    public static boolean isIpLiteral(String normalizedHost) {
        return NetUtil.isValidIpV4Address(normalizedHost) || NetUtil.isValidIpV6Address(normalizedHost);
    }

    /**
     * One string per address: compressed IPv6, and an IPv4-mapped IPv6 literal as the IPv4 address it is (the
     * JDK connects to it as that IPv4 address, so a literal pattern for it must match it).
     */
    private static String ipLiteral(String ip) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes.length == 16 && isIpv4Mapped(bytes)) {
            bytes = java.util.Arrays.copyOfRange(bytes, 12, 16);
        }
        return NetUtil.bytesToIpAddress(bytes);
    }

    private static boolean isIpv4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static String stripTrailingDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static Optional<String> toAsciiName(String name) {
        String ascii;
        if (isAscii(name)) {
            // What every request brings: IDN.toASCII would return it unchanged, at the cost of a copy per label.
            ascii = name.toLowerCase(Locale.ROOT);
        } else {
            try {
                ascii = IDN.toASCII(name, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return nameProblem(ascii) == null ? Optional.of(ascii) : Optional.empty();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why a name is not a DNS name, or null if it is one. Underscores are tolerated: real names use them. One
     * pass over the characters, allocating only to describe a problem (it runs for every request).
     */
    static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "empty name";
        }
        if (name.length() > 253) {
            return "longer than 253 characters";
        }
        int start = 0;
        for (int i = 0; i <= name.length(); i++) {
            if (i < name.length() && name.charAt(i) != '.') {
                char c = name.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_';
                if (!ok) {
                    return "character " + Quote.shortly(String.valueOf(c)) + " is not allowed in a host name";
                }
                continue;
            }
            int length = i - start;
            if (length == 0) {
                return "empty label";
            }
            if (length > 63) {
                return "label longer than 63 characters";
            }
            if (name.charAt(start) == '-' || name.charAt(i - 1) == '-') {
                return "label \"" + name.substring(start, i) + "\" starts or ends with '-'";
            }
            start = i + 1;
        }
        return null;
    }

    @Override
    public String toString() {
        return kind == Kind.SUFFIX ? "*." + value : value;
    }
}
