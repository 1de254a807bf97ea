package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw TCP origin that records every byte it receives and answers each request head (no bodies expected) the
 * way its {@link Behaviour} says, including the ways real upstreams fail: never answering, answering only the
 * head, trickling, or resetting in the middle of a body. Plain sockets and one thread per connection, so what it
 * does on the wire is exactly what the code says.
 */
public final class FaultyOrigin implements AutoCloseable {
    /** What the origin does with each request head it reads. */
    public enum Behaviour {
        /** 200 with the body {@code ok}, keep-alive. */
        ANSWER,
        /** 200 with the body {@code ok} and {@code Connection: close}, then a FIN: nothing to pool. */
        ANSWER_AND_CLOSE,
        /** Accepts and reads, never answers. */
        SILENT,
        /** A head promising 1,000 bytes, then nothing. */
        HEAD_ONLY,
        /** {@code 200 ok} one byte every 20 ms. */
        TRICKLE,
        /** A head promising 1 MiB, 64 KiB of it, then a reset (RST). */
        RESET_MID_BODY,
        /** A reset as soon as the request head arrived, before any answer. */
        RESET_BEFORE_ANSWER,
        /** A reset as soon as the first bytes arrive (a TLS server dying mid-handshake). */
        RESET_ON_FIRST_BYTES
    }

    public static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK_CLOSE = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
            .getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket server;
    private final Behaviour behaviour;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger heads = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    public FaultyOrigin(String host, int port, Behaviour behaviour) throws IOException {
        this.server = new ServerSocket(port, 50, InetAddress.getByName(host));
        this.behaviour = behaviour;
        Thread acceptor = new Thread(this::accept, "faulty-origin-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public int connections() {
        return connections.get();
    }

    /** Request heads read so far (a blank line ends each). */
    public int heads() {
        return heads.get();
    }

    /** Everything every connection sent, in arrival order per read. */
    public String received() {
        synchronized (received) {
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "faulty-origin-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            byte[] buf = new byte[8192];
            int matched = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (received) {
                    received.write(buf, 0, n);
                }
                if (behaviour == Behaviour.RESET_ON_FIRST_BYTES) {
                    reset(s);
                    return;
                }
                for (int i = 0; i < n; i++) {
                    matched = nextMatch(matched, buf[i]);
                    if (matched == 4) {
                        matched = 0;
                        heads.incrementAndGet();
                        if (!answer(s, out)) {
                            return;
                        }
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            // the peer went away, or the test closed us
        }
    }

    /** Progress through "\r\n\r\n". */
    private static int nextMatch(int matched, byte b) {
        byte want = (matched % 2 == 0) ? (byte) '\r' : (byte) '\n';
        if (b == want) {
            return matched + 1;
        }
        return b == '\r' ? 1 : 0;
    }

    /** Answers one head; false when the connection is finished. */
    private boolean answer(Socket s, OutputStream out) throws IOException, InterruptedException {
        switch (behaviour) {
            case ANSWER -> out.write(OK);
            case ANSWER_AND_CLOSE -> {
                out.write(OK_CLOSE);
                out.flush();
                return false;
            }
            case SILENT -> {
                return true;
            }
            case HEAD_ONLY -> out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            case TRICKLE -> {
                for (byte b : OK) {
                    out.write(b);
                    out.flush();
                    // The origin's pace, not a test waiting for something: this is what trickling means.
                    TimeUnit.MILLISECONDS.sleep(20);
                }
            }
            case RESET_MID_BODY -> {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[65536]);
                out.flush();
                reset(s);
                return false;
            }
            case RESET_BEFORE_ANSWER -> {
                reset(s);
                return false;
            }
            default -> throw new IllegalStateException(behaviour.toString());
        }
        out.flush();
        return true;
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
