package io.meshegress.proxy;

import io.netty.buffer.ByteBuf;

/**
 * Which extensions a ClientHello carries, read from its body (from client_version on, as Netty's ClientHello
 * handlers pass it). Pure and bounds-checked: a body that does not parse carries nothing.
 */
public final class ClientHelloExtensions {
    /** encrypted_client_hello (draft-ietf-tls-esni): the real server name travels encrypted. */
    public static final int ENCRYPTED_CLIENT_HELLO = 0xfe0d;

    private ClientHelloExtensions() {
    }

    /** Whether the ClientHello body in {@code hello} (not consumed) lists extension {@code type}. */
    public static boolean has(ByteBuf hello, int type) {
        int i = hello.readerIndex();
        int end = hello.writerIndex();
        i += 2 + 32; // client_version, random
        if (i + 1 > end) {
            return false;
        }
        i += 1 + hello.getUnsignedByte(i); // session_id
        if (i + 2 > end) {
            return false;
        }
        i += 2 + hello.getUnsignedShort(i); // cipher_suites
        if (i + 1 > end) {
            return false;
        }
        i += 1 + hello.getUnsignedByte(i); // compression_methods
        if (i + 2 > end) {
            return false;
        }
        int extensionsEnd = Math.min(end, i + 2 + hello.getUnsignedShort(i));
        i += 2;
        while (i + 4 <= extensionsEnd) {
            if (hello.getUnsignedShort(i) == type) {
                return true;
            }
            i += 4 + hello.getUnsignedShort(i + 2);
        }
        return false;
    }
}
