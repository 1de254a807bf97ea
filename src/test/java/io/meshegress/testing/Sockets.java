package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Raw-socket exchanges with the proxy, for answers no ordinary client shows (TLS alerts, hashes). */
public final class Sockets {
    private Sockets() {
    }

    /** Sends bytes, then reads everything the other side sends until it closes. */
    public static byte[] exchange(InetSocketAddress target, byte[] bytes) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(target, 5000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            return s.getInputStream().readAllBytes();
        }
    }

    /** {@link #exchange} with text: ISO-8859-1 both ways, so every byte a test writes is the byte sent. */
    public static String exchange(InetSocketAddress target, String request) throws IOException {
        return new String(exchange(target, request.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    /** One line, without its line break. */
    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
