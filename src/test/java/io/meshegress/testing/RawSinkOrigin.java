package io.meshegress.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A plain TCP origin that shows exactly what arrived: it reads until the client's end of input, then sends
 * back the SHA-256 of every byte it received and a line break, then {@code replyBytes} of
 * {@link DeterministicBytes} (seed 99), then closes. Through an SNI tunnel that proves the ClientHello was
 * replayed unchanged, that bulk data is intact both ways, and that half-close is passed on.
 */
public final class RawSinkOrigin implements AutoCloseable {
    public static final long SEED = 99;

    private final ServerSocket server;
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raw-sink");
        t.setDaemon(true);
        return t;
    });
    private final long replyBytes;

    public RawSinkOrigin(String host, int port, long replyBytes) throws IOException {
        this.replyBytes = replyBytes;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(host, port));
        workers.execute(this::acceptLoop);
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
            MessageDigest md = DeterministicBytes.sha256();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            out.write((HexFormat.of().formatHex(md.digest()) + "\n").getBytes(StandardCharsets.US_ASCII));
            DeterministicBytes bytes = new DeterministicBytes(SEED, replyBytes);
            byte[] block = new byte[DeterministicBytes.BLOCK];
            while ((n = bytes.next(block)) > 0) {
                out.write(block, 0, n);
            }
            out.flush();
        } catch (IOException e) {
            // the test on the other side reports what went missing
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        workers.shutdownNow();
    }
}
