package io.meshegress.proxy.head;

import io.netty.buffer.ByteBuf;
import java.util.OptionalInt;

/**
 * The 16-byte fixed part of a PROXY protocol v2 header (HAProxy's proxy-protocol.txt, section 2.2), collected
 * as it arrives, however the client splits it: the signature, version and command, the address family, and the
 * length of what follows. The TLVs are that length minus the family's address block (IPv4 12 bytes, IPv6 36,
 * UNIX 216, UNSPEC 0). Netty's decoder bounds the whole header by the largest address block, which lets a TCP
 * header carry up to 216 - 12 bytes more TLVs than its bound says; this reads the TLV length exactly.
 */
final class ProxyV2Prefix {
    static final int LENGTH = 16;
    private static final int FAMILY = 13;

    private final byte[] bytes = new byte[LENGTH];
    private int seen;

    /** Takes the first bytes of {@code b} (without consuming them) until the fixed part is whole. */
    void add(ByteBuf b) {
        int n = Math.min(LENGTH - seen, b.readableBytes());
        b.getBytes(b.readerIndex(), bytes, seen, n);
        seen += n;
    }

    boolean complete() {
        return seen == LENGTH;
    }

    /**
     * With the fixed part whole and a v2 signature, the number of TLV bytes the header announces; empty for
     * a v1 header, or when the family or length is malformed (Netty's decoder refuses those).
     */
    OptionalInt tlvBytes() {
        if (!complete() || bytes[0] != 0x0d || (bytes[12] & 0xf0) != 0x20) {
            return OptionalInt.empty();
        }
        int length = ((bytes[14] & 0xff) << 8) | (bytes[15] & 0xff);
        int address = switch ((bytes[FAMILY] & 0xf0) >> 4) {
            case 0 -> 0;
            case 1 -> 12;
            case 2 -> 36;
            case 3 -> 216;
            default -> -1;
        };
        if (address < 0 || length < address) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(length - address);
    }
}
