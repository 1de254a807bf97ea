package io.meshegress.proxy.http;

import io.meshegress.testing.TlsClients;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** One HTTP/1.1 response read off a raw socket: Content-Length, chunked, or to the end of the stream. */
record Response(String head, byte[] bodyBytes) {

    int status() {
        return Integer.parseInt(head.substring(9, 12));
    }

    String body() {
        return new String(bodyBytes, StandardCharsets.UTF_8);
    }

    static Response readHeadOnly(InputStream in) throws IOException {
        return new Response(TlsClients.readHead(in), new byte[0]);
    }

    static Response read(InputStream in) throws IOException {
        String head = TlsClients.readHead(in);
        String lower = head.toLowerCase(Locale.ROOT);
        int status = Integer.parseInt(head.substring(9, 12));
        if (status / 100 == 1 || status == 204 || status == 304) {
            return new Response(head, new byte[0]);
        }
        if (lower.contains("transfer-encoding: chunked")) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = line(in);
                int size = Integer.parseInt(sizeLine.split(";")[0].strip(), 16);
                if (size == 0) {
                    while (!line(in).isEmpty()) {
                        // trailers
                    }
                    return new Response(head, body.toByteArray());
                }
                body.write(in.readNBytes(size));
                line(in);
            }
        }
        int at = lower.indexOf("content-length:");
        if (at >= 0) {
            int end = lower.indexOf("\r\n", at);
            int length = Integer.parseInt(lower.substring(at + 15, end).strip());
            return new Response(head, in.readNBytes(length));
        }
        return new Response(head, in.readAllBytes());
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
