package io.meshegress.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2: from legacy_version on) as the strictest of the
 * servers we compare with reads it, so that whatever name any of them would take from it, this takes too or
 * refuses the whole hello. Refused ({@link HelloVerdict.Unreadable}): a length that runs past its field,
 * bytes after the extensions block (Go, OpenSSL), an extension listed twice (Go, OpenSSL: RFC 8446 §4.2
 * "There MUST NOT be more than one extension of the same type"), and a server_name (RFC 6066 §3) that is empty,
 * has bytes after its list, an entry that does not parse or is empty, more than one host_name (Go, OpenSSL),
 * or no host_name at all (OpenSSL). An entry of another name type is skipped as Go skips it, so a host_name
 * behind one is still the name. Go's crypto/tls (handshake_messages.go, clientHelloMsg.unmarshal) and
 * OpenSSL's tls_parse_ctos_server_name are the readings compared.
 */
final class ClientHelloBody {
    static final int SERVER_NAME = 0;
    /** encrypted_client_hello (draft-ietf-tls-esni): the real server name travels encrypted. */
    static final int ENCRYPTED_CLIENT_HELLO = 0xfe0d;
    private static final int HOST_NAME = 0;

    private ClientHelloBody() {
    }

    /** The body between {@code from} and {@code to} (exclusive) of {@code in}, which is not consumed. */
    static HelloVerdict parse(ByteBuf in, int from, int to) {
        int i = from + 2 + 32; // legacy_version, random
        if (i + 1 > to) {
            return truncated("random");
        }
        i += 1 + in.getUnsignedByte(i); // legacy_session_id<0..32>
        if (i + 2 > to) {
            return truncated("session_id");
        }
        i += 2 + in.getUnsignedShort(i); // cipher_suites<2..2^16-2>
        if (i + 1 > to) {
            return truncated("cipher_suites");
        }
        i += 1 + in.getUnsignedByte(i); // legacy_compression_methods<1..2^8-1>
        if (i > to) {
            return truncated("compression_methods");
        }
        if (i == to) {
            return new HelloVerdict.NoServerName(false); // a TLS 1.2 hello may end without extensions
        }
        if (i + 2 > to) {
            return truncated("extensions");
        }
        int extensionsEnd = i + 2 + in.getUnsignedShort(i);
        if (extensionsEnd > to) {
            return truncated("extensions");
        }
        if (extensionsEnd < to) {
            return new HelloVerdict.Unreadable("ClientHello has " + (to - extensionsEnd) + " bytes after its extensions");
        }
        i += 2;
        int[] types = new int[(extensionsEnd - i) / 4];
        int count = 0;
        String name = null;
        boolean serverName = false;
        boolean ech = false;
        while (i < extensionsEnd) {
            if (i + 4 > extensionsEnd) {
                return truncated("an extension header");
            }
            int type = in.getUnsignedShort(i);
            int dataEnd = i + 4 + in.getUnsignedShort(i + 2);
            if (dataEnd > extensionsEnd) {
                return truncated("extension " + type);
            }
            types[count++] = type;
            if (type == SERVER_NAME) {
                serverName = true;
                HelloVerdict v = hostName(in, i + 4, dataEnd);
                if (!(v instanceof HelloVerdict.Named named)) {
                    return v;
                }
                name = named.serverName();
            } else if (type == ENCRYPTED_CLIENT_HELLO) {
                ech = true;
            }
            i = dataEnd;
        }
        int[] sorted = Arrays.copyOf(types, count);
        Arrays.sort(sorted);
        for (int k = 1; k < count; k++) {
            if (sorted[k] == sorted[k - 1]) {
                return new HelloVerdict.Unreadable("ClientHello lists extension " + sorted[k] + " twice");
            }
        }
        return serverName ? new HelloVerdict.Named(name, ech) : new HelloVerdict.NoServerName(ech);
    }

    /** server_name's extension data: its one host_name (as a Named), or why not (an Unreadable). */
    private static HelloVerdict hostName(ByteBuf in, int from, int to) {
        if (from + 2 > to) {
            return truncated("server_name");
        }
        int listEnd = from + 2 + in.getUnsignedShort(from);
        if (listEnd != to) {
            return listEnd > to ? truncated("server_name")
                    : new HelloVerdict.Unreadable("server_name has bytes after its list");
        }
        if (listEnd == from + 2) {
            return new HelloVerdict.Unreadable("server_name has an empty list");
        }
        String host = null;
        for (int i = from + 2; i < listEnd; ) {
            if (i + 3 > listEnd) {
                return truncated("a server_name entry");
            }
            int nameType = in.getUnsignedByte(i);
            int length = in.getUnsignedShort(i + 1);
            int end = i + 3 + length;
            if (end > listEnd) {
                return truncated("a server_name entry");
            }
            if (length == 0) {
                return new HelloVerdict.Unreadable("server_name has an empty name");
            }
            if (nameType == HOST_NAME) {
                if (host != null) {
                    return new HelloVerdict.Unreadable("server_name lists more than one host_name");
                }
                host = in.toString(i + 3, length, StandardCharsets.ISO_8859_1);
            }
            i = end;
        }
        return host != null ? new HelloVerdict.Named(host, false) : new HelloVerdict.Unreadable("server_name lists no host_name");
    }

    private static HelloVerdict truncated(String what) {
        return new HelloVerdict.Unreadable("ClientHello truncated in " + what);
    }
}
