package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An origin written from RFC 6455 and RFC 9112 alone, on plain blocking sockets (no Netty, so nothing of the
 * proxy's HTTP stack judges the proxy): it reads a request head byte by byte, records it, and then
 * <ul>
 *   <li>for {@code GET /ws} (and {@code /ws-greeting}, which sends a text frame "greeting" in the same write as its
 *       101) with a valid WebSocket handshake (section 4.2.1) answers {@code 101} with the
 *       {@code Sec-WebSocket-Accept} of section 4.2.2 and echoes every masked text frame as
 *       {@code "echo: " + text} (an unmasked client frame closes the connection, section 5.1); every byte
 *       it received after the handshake head is recorded;</li>
 *   <li>for anything else (an upgrade it declines included) answers {@code 200} with the body
 *       {@code "path=<target>\n"} and reads the next request on the same connection.</li>
 * </ul>
 * Every answer carries {@link #MESH_HEADERS_SENT}.
 */
public final class WebSocketOrigin implements AutoCloseable {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /**
     * Sent on every answer: what a sidecar would read as its peer's identity (Istio's metadata exchange), and a
     * header of the origin's own that must arrive.
     */
    public static final String MESH_HEADERS_SENT = "X-Envoy-Peer-Metadata-Id: sidecar~10.9.9.9~spoofed.ns~ns.svc"
            + ".cluster.local\r\nx-envoy-peer-metadata: Cg9zcG9vZmVk\r\nX-Origin-Own: kept\r\n";

    private final ServerSocket server;
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "websocket-origin");
        t.setDaemon(true);
        return t;
    });
    private final ConcurrentLinkedQueue<String> heads = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<byte[]> afterHandshake = new ConcurrentLinkedQueue<>();

    public WebSocketOrigin(String host) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(host, 0));
        workers.execute(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Every request head received, as it arrived (CRLFs included). */
    public List<String> heads() {
        return List.copyOf(heads);
    }

    /** Per WebSocket connection that has ended, the bytes it received after the handshake head. */
    public List<byte[]> bytesAfterHandshake() {
        return List.copyOf(afterHandshake);
    }

    /** The Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2, item 5.4). */
    public static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                workers.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                heads.add(head);
                String key = header(head, "sec-websocket-key");
                String target = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
                boolean handshake = (head.startsWith("GET /ws ") || head.startsWith("GET /ws-greeting ")) && key != null
                        && "websocket".equalsIgnoreCase(header(head, "upgrade"))
                        && header(head, "connection") != null
                        && header(head, "connection").toLowerCase(Locale.ROOT).contains("upgrade")
                        && "13".equals(header(head, "sec-websocket-version"));
                if (handshake) {
                    ByteArrayOutputStream answer = new ByteArrayOutputStream();
                    answer.writeBytes(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept(key) + "\r\n" + MESH_HEADERS_SENT + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    if (head.startsWith("GET /ws-greeting ")) {
                        // The server speaks first, in the same write as the 101 (RFC 6455 allows it at once).
                        answer.writeBytes(new byte[] {(byte) 0x81, 8});
                        answer.writeBytes("greeting".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write(answer.toByteArray());
                    out.flush();
                    echo(in, out);
                    return;
                }
                byte[] body = ("path=" + target + "\n").getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + MESH_HEADERS_SENT
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Frames (RFC 6455 section 5.2) until a close frame or the end of input; every byte is recorded. */
    private void echo(InputStream raw, OutputStream out) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream in = new InputStream() {
            @Override
            public int read() throws IOException {
                int b = raw.read();
                if (b >= 0) {
                    seen.write(b);
                }
                return b;
            }
        };
        try {
            while (true) {
                int b0 = in.read();
                int b1 = in.read();
                if (b0 < 0 || b1 < 0) {
                    return;
                }
                if ((b1 & 0x80) == 0) {
                    return; // a client frame must be masked
                }
                long len = b1 & 0x7f;
                if (len == 126) {
                    len = (in.read() << 8) | in.read();
                } else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++) {
                        len = (len << 8) | in.read();
                    }
                }
                byte[] mask = in.readNBytes(4);
                byte[] payload = in.readNBytes((int) len);
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i % 4];
                }
                int opcode = b0 & 0x0f;
                if (opcode == 0x8) {
                    out.write(new byte[] {(byte) 0x88, 0});
                    out.flush();
                    return;
                }
                if (opcode == 0x1) {
                    byte[] reply = ("echo: " + new String(payload, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                    out.write(0x81);
                    out.write(reply.length);
                    out.write(reply);
                    out.flush();
                }
            }
        } finally {
            afterHandshake.add(seen.toByteArray());
        }
    }

    /** A head up to its empty line, read one byte at a time so nothing behind it is consumed; null at the end. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString();
            }
        }
        return null;
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        workers.shutdownNow();
    }
}
