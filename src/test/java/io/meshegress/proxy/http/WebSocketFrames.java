package io.meshegress.proxy.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Just enough RFC 6455 framing for a test client: masked text frames out, unmasked text frames in. */
final class WebSocketFrames {
    private WebSocketFrames() {
    }

    static byte[] maskedText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x81);
        out.write(0x80 | payload.length);
        out.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            out.write(payload[i] ^ mask[i % 4]);
        }
        return out.toByteArray();
    }

    static String readText(InputStream in) throws IOException {
        int first = in.read();
        if (first != 0x81) {
            throw new IOException("expected a final text frame, got " + first);
        }
        int len = in.read() & 0x7f;
        if (len == 126) {
            len = (in.read() << 8) | in.read();
        }
        return new String(in.readNBytes(len), StandardCharsets.UTF_8);
    }
}
