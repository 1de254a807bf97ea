package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The record and server_name forms RFC 8446 §5.1 and RFC 6066 §3 allow (and a few they do not), built from a
 * real client's ClientHello: the handshake message re-split over records (empty ones too), its server_name list
 * rewritten. Lengths are recomputed so every form is well formed unless it is meant not to be.
 */
public final class HelloForms {
    private HelloForms() {
    }

    /** The handshake message (type, length, body) inside a one-record ClientHello. */
    public static byte[] message(byte[] record) {
        int length = (record[3] & 0xff) << 8 | (record[4] & 0xff);
        return Arrays.copyOfRange(record, 5, 5 + length);
    }

    /** One handshake record (version 0x0301 as clients send first) carrying {@code payload}. */
    public static byte[] record(byte[] payload) {
        return record(22, 0x0301, payload);
    }

    public static byte[] record(int type, int version, byte[] payload) {
        byte[] r = new byte[5 + payload.length];
        r[0] = (byte) type;
        r[1] = (byte) (version >> 8);
        r[2] = (byte) version;
        r[3] = (byte) (payload.length >> 8);
        r[4] = (byte) payload.length;
        System.arraycopy(payload, 0, r, 5, payload.length);
        return r;
    }

    /** {@code message} cut at {@code cuts} (offsets into it), each piece its own record; 0-length pieces allowed. */
    public static byte[] split(byte[] message, int... cuts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            out.writeBytes(record(Arrays.copyOfRange(message, from, cut)));
            from = cut;
        }
        out.writeBytes(record(Arrays.copyOfRange(message, from, message.length)));
        return out.toByteArray();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A server_name entry (RFC 6066 §3: name_type, then a 16-bit length and the name). */
    public static byte[] entry(int nameType, String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        byte[] e = new byte[3 + n.length];
        e[0] = (byte) nameType;
        e[1] = (byte) (n.length >> 8);
        e[2] = (byte) n.length;
        System.arraycopy(n, 0, e, 3, n.length);
        return e;
    }

    /** server_name extension data: a ServerNameList of {@code entries}. */
    public static byte[] serverNameList(byte[]... entries) {
        byte[] list = concat(entries);
        return concat(new byte[] {(byte) (list.length >> 8), (byte) list.length}, list);
    }

    /**
     * {@code message} (a ClientHello handshake message) with its server_name extension (type 0) replaced by the
     * given extensions, in place of it: each {@code extensions[i]} is {type, data}. Without a server_name in the
     * original, they are appended.
     */
    public static byte[] withExtensionsForServerName(byte[] message, Object[]... extensions) {
        int i = 4 + 2 + 32;
        i += 1 + (message[i] & 0xff);
        i += 2 + ((message[i] & 0xff) << 8 | (message[i + 1] & 0xff));
        i += 1 + (message[i] & 0xff);
        int extStart = i + 2;
        int extEnd = extStart + ((message[i] & 0xff) << 8 | (message[i + 1] & 0xff));
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        boolean replaced = false;
        for (int j = extStart; j < extEnd; ) {
            int type = (message[j] & 0xff) << 8 | (message[j + 1] & 0xff);
            int len = (message[j + 2] & 0xff) << 8 | (message[j + 3] & 0xff);
            if (type == 0 && !replaced) {
                writeExtensions(ext, extensions);
                replaced = true;
            } else if (type != 0) {
                ext.write(message, j, 4 + len);
            }
            j += 4 + len;
        }
        if (!replaced) {
            writeExtensions(ext, extensions);
        }
        byte[] e = ext.toByteArray();
        byte[] body = concat(Arrays.copyOfRange(message, 4, extStart - 2),
                new byte[] {(byte) (e.length >> 8), (byte) e.length}, e);
        return concat(new byte[] {1, (byte) (body.length >> 16), (byte) (body.length >> 8), (byte) body.length}, body);
    }

    private static void writeExtensions(ByteArrayOutputStream out, Object[]... extensions) {
        for (Object[] x : extensions) {
            int type = (Integer) x[0];
            byte[] data = (byte[]) x[1];
            out.writeBytes(new byte[] {(byte) (type >> 8), (byte) type, (byte) (data.length >> 8), (byte) data.length});
            out.writeBytes(data);
        }
    }

    /** {type, data} for {@link #withExtensionsForServerName}. */
    public static Object[] extension(int type, byte[] data) {
        return new Object[] {type, data};
    }
}
