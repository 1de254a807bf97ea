package io.meshegress.policy;

import io.meshegress.text.Quote;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;

/** An IPv4 or IPv6 network, {@code 10.0.0.0/8} or {@code fc00::/7}; a bare address is a /32 or /128. */
public record Cidr(byte[] network, int prefixLength, String text) {

    public Cidr {
        network = network.clone();
    }

    @Override
    public byte[] network() {
        return network.clone();
    }

    /** Parses, or throws {@link IllegalArgumentException} with a message meant for the user. */
    public static Cidr parse(String text) {
        String t = text.strip();
        int slash = t.indexOf('/');
        String ip = slash < 0 ? t : t.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes == null) {
            throw new IllegalArgumentException(Quote.shortly(text) + " is not a CIDR (expected an address/prefix, e.g. 10.0.0.0/8)");
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            try {
                prefix = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max || p.startsWith("+")) {
                throw new IllegalArgumentException(Quote.shortly(text) + " is not a CIDR (the prefix length must be 0 to " + max + ")");
            }
        }
        byte[] masked = mask(bytes, prefix);
        if (!Arrays.equals(masked, bytes)) {
            throw new IllegalArgumentException(Quote.shortly(text) + " is not a CIDR (host bits are set; did you mean "
                    + NetUtil.bytesToIpAddress(masked) + "/" + prefix + "?)");
        }
        return new Cidr(masked, prefix, NetUtil.bytesToIpAddress(masked) + "/" + prefix);
    }

    /**
     * Whether the address is in this network. IPv4-mapped IPv6 addresses ({@code ::ffff:10.0.0.1}) are
     * compared as the IPv4 address they carry, so they cannot slip past an IPv4 rule.
     */
    public boolean contains(InetAddress address) {
        byte[] a = canonicalBytes(address);
        if (a.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (a[full] & m) == (network[full] & m);
    }

    /** Whether every address of {@code other} is in this network too. */
    public boolean covers(Cidr other) {
        if (other.network.length != network.length || other.prefixLength < prefixLength) {
            return false;
        }
        try {
            return contains(InetAddress.getByAddress(other.network));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The address bytes with IPv4-mapped IPv6 unwrapped to IPv4. */
    static byte[] canonicalBytes(InetAddress address) {
        byte[] a = address.getAddress();
        if (address instanceof Inet6Address && isIpv4Mapped(a)) {
            return Arrays.copyOfRange(a, 12, 16);
        }
        return a;
    }

    private static boolean isIpv4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & ((0xff << (8 - bits)) & 0xff));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr && ((Cidr) o).text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
