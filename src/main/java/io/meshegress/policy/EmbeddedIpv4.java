package io.meshegress.policy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The IPv4 addresses an IPv6 address carries. Several IPv6 forms reach an IPv4 host through a translator or a
 * tunnel, so a rule written for IPv4 ({@code 169.254.0.0/16}, the metadata service) must judge them as the IPv4
 * address they carry, or {@code 64:ff9b::a9fe:a9fe} walks past it. Pure: no sockets, no DNS.
 *
 * <p>The forms, from the IANA IPv6 special-purpose registry and the RFCs it cites:
 * IPv4-mapped {@code ::ffff:0:0/96} (RFC 4291), IPv4-compatible {@code ::/96} (RFC 4291, deprecated),
 * NAT64 well-known {@code 64:ff9b::/96} (RFC 6052) and local-use {@code 64:ff9b:1::/48} (RFC 8215, with the
 * RFC 6052 layout for a /48: the address in bits 48-63 and 72-87 around the reserved "u" octet),
 * 6to4 {@code 2002::/16} (RFC 3056, bits 16-47), and Teredo {@code 2001::/32} (RFC 4380: the server in bits
 * 32-63, the client in the last 32 bits, inverted).
 */
public final class EmbeddedIpv4 {

    /** One IPv4 address found inside an IPv6 one, and the form that put it there ("NAT64", "6to4", ...). */
    public record Embedded(Inet4Address address, String form) {
    }

    private EmbeddedIpv4() {
    }

    /** Every IPv4 address {@code address} carries; empty for IPv4 addresses and plain IPv6 ones. */
    public static List<Embedded> of(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return List.of();
        }
        byte[] a = address.getAddress();
        List<Embedded> out = new ArrayList<>(2);
        if (zero(a, 0, 10) && (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff) {
            out.add(v4("IPv4-mapped", a[12], a[13], a[14], a[15]));
        } else if (zero(a, 0, 12) && !(zero(a, 12, 15) && (a[15] == 0 || a[15] == 1))) {
            // "::" (unspecified) and "::1" (loopback) are not IPv4-compatible addresses (RFC 4291 2.5.5.1).
            out.add(v4("IPv4-compatible", a[12], a[13], a[14], a[15]));
        } else if (prefix(a, 0x00, 0x64, 0xff, 0x9b) && zero(a, 4, 12)) {
            out.add(v4("NAT64", a[12], a[13], a[14], a[15]));
        } else if (prefix(a, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01)) {
            out.add(v4("NAT64 local-use", a[6], a[7], a[9], a[10]));
        } else if (prefix(a, 0x20, 0x02)) {
            out.add(v4("6to4", a[2], a[3], a[4], a[5]));
        } else if (prefix(a, 0x20, 0x01, 0x00, 0x00)) {
            out.add(v4("Teredo client", (byte) ~a[12], (byte) ~a[13], (byte) ~a[14], (byte) ~a[15]));
            out.add(v4("Teredo server", a[4], a[5], a[6], a[7]));
        }
        return out;
    }

    private static boolean zero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean prefix(byte[] a, int... bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if ((a[i] & 0xff) != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    private static Embedded v4(String form, byte b0, byte b1, byte b2, byte b3) {
        try {
            return new Embedded((Inet4Address) InetAddress.getByAddress(new byte[] {b0, b1, b2, b3}), form);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }
}
