package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A TLS 1.3 client made by hand (RFC 8446) that gets a real server to send a HelloRetryRequest and then sends a
 * second ClientHello of its choosing: the first offers only x25519 with an empty key_share (§4.2.8: a client
 * may send none and have the server ask), so the server answers with a HelloRetryRequest (§4.1.4) naming x25519;
 * the second carries an x25519 share, the server's cookie (§4.2.2) when it sent one, the same random and
 * session id, and any server_name (or Encrypted Client Hello) the test wants. Whether the server goes on is what
 * it sends next: a ServerHello, or an alert.
 */
public final class HelloRetryClient {
    /** RFC 8446 §4.1.3: the random of a HelloRetryRequest. */
    static final byte[] RETRY_RANDOM = java.util.HexFormat.of()
            .parseHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
    /** RFC 8446 D.4: the change_cipher_spec record a client in middlebox compatibility mode sends. */
    public static final byte[] CHANGE_CIPHER_SPEC = {20, 3, 3, 0, 1, 1};

    private final byte[] random = new byte[32];
    private final byte[] sessionId = new byte[32];

    public HelloRetryClient() {
        SecureRandom r = new SecureRandom();
        r.nextBytes(random);
        r.nextBytes(sessionId);
    }

    /** A TLS record: type, version 0x0303, length, payload. */
    public static byte[] record(int type, byte[] payload) {
        return HelloForms.record(type, 0x0303, payload);
    }

    /** The first ClientHello's record (version 0x0301, as clients send first), naming {@code name} or none. */
    public byte[] firstHello(String name) {
        return HelloForms.record(22, 0x0301, hello(name, false, null, false));
    }

    /** The second ClientHello's record, with an x25519 share and the server's cookie (null: none). */
    public byte[] secondHello(String name, byte[] cookie, boolean encryptedClientHello) {
        return record(22, hello(name, true, cookie, encryptedClientHello));
    }

    private byte[] hello(String name, boolean share, byte[] cookie, boolean ech) {
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        if (name != null) {
            ext.writeBytes(extension(0, HelloForms.serverNameList(HelloForms.entry(0, name))));
        }
        ext.writeBytes(extension(10, new byte[] {0, 2, 0, 0x1d})); // supported_groups: x25519
        ext.writeBytes(extension(13, new byte[] {0, 18, 8, 4, 8, 5, 8, 6, 4, 3, 5, 3, 6, 3, 4, 1, 5, 1, 6, 1}));
        ext.writeBytes(extension(43, new byte[] {2, 3, 4})); // supported_versions: TLS 1.3
        ext.writeBytes(extension(45, new byte[] {1, 1})); // psk_key_exchange_modes: psk_dhe_ke
        if (share) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key); // any 32 bytes are an x25519 public key
            ext.writeBytes(extension(51, HelloForms.concat(new byte[] {0, 36, 0, 0x1d, 0, 32}, key)));
        } else {
            ext.writeBytes(extension(51, new byte[] {0, 0})); // key_share: no share
        }
        if (cookie != null) {
            ext.writeBytes(extension(44, cookie));
        }
        if (ech) {
            byte[] outer = new byte[48];
            new SecureRandom().nextBytes(outer);
            outer[0] = 0; // ECHClientHello type outer
            ext.writeBytes(extension(0xfe0d, outer));
        }
        byte[] e = ext.toByteArray();
        byte[] body = HelloForms.concat(new byte[] {3, 3}, random, new byte[] {32}, sessionId,
                new byte[] {0, 6, 0x13, 1, 0x13, 2, 0x13, 3, 1, 0}, new byte[] {(byte) (e.length >> 8), (byte) e.length}, e);
        return HelloForms.concat(new byte[] {1, (byte) (body.length >> 16), (byte) (body.length >> 8), (byte) body.length},
                body);
    }

    private static byte[] extension(int type, byte[] data) {
        return HelloForms.concat(new byte[] {(byte) (type >> 8), (byte) type, (byte) (data.length >> 8),
                (byte) data.length}, data);
    }

    /** One record read from {@code in}; null at a clean end of stream. */
    public record Record(int type, byte[] payload) {
        /** A handshake record whose first message is a ServerHello. */
        public boolean serverHello() {
            return type == 22 && payload.length > 38 && payload[0] == 2;
        }

        /** A ServerHello with the HelloRetryRequest random. */
        public boolean helloRetryRequest() {
            return serverHello() && Arrays.equals(payload, 6, 38, RETRY_RANDOM, 0, 32);
        }

        /** The cookie extension's data of a HelloRetryRequest, or null. */
        public byte[] cookie() {
            int i = 4 + 2 + 32;
            i += 1 + (payload[i] & 0xff); // legacy_session_id_echo
            i += 2 + 1; // cipher_suite, legacy_compression_method
            int end = i + 2 + ((payload[i] & 0xff) << 8 | (payload[i + 1] & 0xff));
            for (i += 2; i < end; ) {
                int type = (payload[i] & 0xff) << 8 | (payload[i + 1] & 0xff);
                int len = (payload[i + 2] & 0xff) << 8 | (payload[i + 3] & 0xff);
                if (type == 44) {
                    return Arrays.copyOfRange(payload, i + 4, i + 4 + len);
                }
                i += 4 + len;
            }
            return null;
        }

        /** A fatal alert's description, or -1. */
        public int alert() {
            return type == 21 && payload.length == 2 ? payload[1] & 0xff : -1;
        }
    }

    public static Record read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int type = d.read();
        if (type < 0) {
            return null;
        }
        d.readUnsignedShort();
        byte[] payload = new byte[d.readUnsignedShort()];
        try {
            d.readFully(payload);
        } catch (EOFException e) {
            return null;
        }
        return new Record(type, payload);
    }

    /** The next record that is not change_cipher_spec; null at the end of the stream. */
    public static Record readSkippingChangeCipherSpec(InputStream in) throws IOException {
        Record r;
        do {
            r = read(in);
        } while (r != null && r.type() == 20);
        return r;
    }

    /** CONNECT {@code authority} on {@code out}, and the answer's head from {@code in}. */
    public static String connect(OutputStream out, InputStream in, String authority) throws IOException {
        out.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return TlsClients.readHead(in);
    }
}
