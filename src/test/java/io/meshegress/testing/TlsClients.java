package io.meshegress.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** The JDK's own TLS client, pointed at the proxy with the SNI of the real destination. */
public final class TlsClients {
    private final SSLContext context;

    public TlsClients(SSLContext context) {
        this.context = context;
    }

    /** The first flight of a real JDK client: a ClientHello with {@code sni}, or none if null. */
    public byte[] clientHello(String sni) throws Exception {
        SSLEngine engine = sni == null ? context.createSSLEngine() : context.createSSLEngine(sni, 443);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * 2);
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    /** A verified TLS connection to {@code sni} made through the proxy at {@code proxy}. */
    public SSLSocket connect(InetSocketAddress proxy, String sni) throws IOException {
        Socket plain = new Socket();
        plain.connect(proxy, 5000);
        plain.setSoTimeout(30_000);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, sni, 443, true);
        SSLParameters params = tls.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(sni)));
        params.setEndpointIdentificationAlgorithm("HTTPS");
        tls.setSSLParameters(params);
        tls.startHandshake();
        return tls;
    }

    /** {@code GET path} with Connection: close; the whole body as text. */
    public String get(InetSocketAddress proxy, String sni, String path) throws IOException {
        try (SSLSocket s = connect(proxy, sni)) {
            return new String(request(s, "GET " + path, sni, null).body, StandardCharsets.UTF_8);
        }
    }

    /** Downloads {@code GET path} and returns the body's SHA-256 and length, without holding it in memory. */
    public Digest download(InetSocketAddress proxy, String sni, String path) throws IOException {
        try (SSLSocket s = connect(proxy, sni)) {
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + sni + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = readHead(in);
            if (!head.startsWith("HTTP/1.1 200")) {
                throw new IOException("unexpected response: " + head);
            }
            return Digest.of(in);
        }
    }

    /** Uploads {@code length} bytes of {@link DeterministicBytes} to {@code POST /sha256}; the origin's answer. */
    public String upload(InetSocketAddress proxy, String sni, long seed, long length) throws IOException {
        try (SSLSocket s = connect(proxy, sni)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /sha256 HTTP/1.1\r\nHost: " + sni + "\r\nContent-Length: " + length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            DeterministicBytes bytes = new DeterministicBytes(seed, length);
            byte[] block = new byte[DeterministicBytes.BLOCK];
            int n;
            while ((n = bytes.next(block)) > 0) {
                out.write(block, 0, n);
            }
            out.flush();
            InputStream in = s.getInputStream();
            readHead(in);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }

    public record Response(String head, byte[] body) {
    }

    /** Sends a request head (and optional body) and reads a response to end of stream. */
    public static Response request(SSLSocket s, String requestLine, String host, byte[] body) throws IOException {
        OutputStream out = s.getOutputStream();
        StringBuilder req = new StringBuilder(requestLine).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\nConnection: close\r\n");
        if (body != null) {
            req.append("Content-Length: ").append(body.length).append("\r\n");
        }
        out.write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        if (body != null) {
            out.write(body);
        }
        out.flush();
        InputStream in = s.getInputStream();
        String head = readHead(in);
        return new Response(head, in.readAllBytes());
    }

    /** Reads up to and including the blank line that ends an HTTP head. */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside the response head: " + head);
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    public record Digest(String sha256, long length) {
        public static Digest of(InputStream in) throws IOException {
            MessageDigest md = DeterministicBytes.sha256();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
                total += n;
            }
            return new Digest(HexFormat.of().formatHex(md.digest()), total);
        }
    }
}
