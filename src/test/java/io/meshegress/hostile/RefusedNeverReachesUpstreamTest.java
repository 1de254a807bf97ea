package io.meshegress.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.FaultyOrigin;
import io.meshegress.testing.ProxyUnderTest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * "No refusal ever lets a byte reach an upstream", over the real wire: 200 requests, generated from a fixed
 * seed, each naming a denied host in some spelling and request form (CONNECT, absolute-form, Host, SNI-less
 * tricks, duplicate and folded headers, bytes pipelined behind, pieces split across writes). The denied
 * host's address has a listener that counts connections; it must count none, and the proxy must go on
 * serving an allowed request afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusedNeverReachesUpstreamTest {
    static final InetSocketAddress HTTP = new InetSocketAddress("127.0.0.66", 8080);
    static final long SEED = 20261129L;

    FaultyOrigin denied;
    FaultyOrigin allowed;
    ProxyUnderTest proxy;

    @BeforeAll
    void start() throws Exception {
        denied = new FaultyOrigin("127.0.0.67", 8081, FaultyOrigin.Behaviour.ANSWER);
        allowed = new FaultyOrigin("127.0.0.68", 8081, FaultyOrigin.Behaviour.ANSWER);
        proxy = new ProxyUnderTest("""
                http:
                  listen: "127.0.0.66:8080"
                  connectPorts: [8081]
                sni: null
                admin: null
                resolver:
                  hosts: {evil.test: 127.0.0.67, sub.evil.test: 127.0.0.67, good.test: 127.0.0.68}
                timeouts:
                  handshake: 2s
                policy:
                  allow: [good.test]
                  deny: ["*.evil.test", evil.test]
                  denyNetworks: []
                mesh:
                  destinations: []
                """);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, denied, allowed}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void noRefusedRequestEverConnectsToTheDeniedHost() throws Exception {
        Random random = new Random(SEED);
        for (int i = 0; i < 200; i++) {
            send(random, request(random));
        }
        Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                .until(() -> denied.connections() == 0);
        String reply = exchange("GET /after HTTP/1.1\r\nHost: good.test:8081\r\nConnection: close\r\n\r\n", 1, random);
        assertThat(reply).startsWith("HTTP/1.1 200");
    }

    private static String request(Random r) {
        String host = spell(r, r.nextBoolean() ? "evil.test" : "sub.evil.test");
        String authority = host + (r.nextInt(4) == 0 ? "" : ":8081");
        String behind = r.nextBoolean() ? "" : "GET /behind HTTP/1.1\r\nHost: " + spell(r, "evil.test") + ":8081\r\n\r\n";
        List<String> forms = List.of(
                "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n",
                "GET http://" + authority + "/x HTTP/1.1\r\nHost: good.test:8081\r\n\r\n",
                "GET /x HTTP/1.1\r\nHost: " + authority + "\r\n\r\n",
                "GET /x HTTP/1.1\r\nHost: good.test:8081\r\nHost: " + authority + "\r\n\r\n",
                "GET /x HTTP/1.1\r\nHost: " + authority + "\r\nHost: good.test:8081\r\n\r\n",
                "GET /x HTTP/1.1\r\nHost: good.test:8081\r\n X-Folded: x\r\nHost: " + authority + "\r\n\r\n",
                "POST /x HTTP/1.1\r\nHost: " + authority + "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                "POST /x HTTP/1.1\r\nHost: " + authority + "\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
                "GET /x HTTP/1.0\r\nHost: " + authority + "\r\n\r\n",
                "GET http://" + authority + "@good.test:8081/ HTTP/1.1\r\nHost: x\r\n\r\n",
                "CONNECT " + authority + " HTTP/1.1\r\n\r\n\u0016\u0003\u0001\u0000\u0005hello");
        return forms.get(r.nextInt(forms.size())) + behind;
    }

    /** The same name in another spelling: case, a trailing dot, or both. */
    private static String spell(Random r, String name) {
        String s = r.nextBoolean() ? name.toUpperCase(Locale.ROOT) : name;
        if (r.nextInt(3) == 0) {
            s = s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
        }
        return r.nextBoolean() ? s + "." : s;
    }

    private static void send(Random r, String request) throws IOException {
        exchange(request, 1 + r.nextInt(3), r);
    }

    /** Writes the request in {@code pieces} writes and reads what comes back until close or a quarter second of quiet. */
    private static String exchange(String request, int pieces, Random r) throws IOException {
        byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
        try (Socket s = new Socket()) {
            s.connect(HTTP, 5000);
            s.setSoTimeout(250);
            int at = 0;
            for (int p = 1; p <= pieces; p++) {
                int end = p == pieces ? bytes.length : Math.min(bytes.length, at + r.nextInt(bytes.length + 1));
                s.getOutputStream().write(bytes, at, end - at);
                s.getOutputStream().flush();
                at = end;
            }
            StringBuilder reply = new StringBuilder();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    reply.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                }
            } catch (SocketTimeoutException e) {
                // a kept-alive connection: what came is the answer
            }
            return reply.toString();
        }
    }
}
