package io.meshegress.tls;

import static io.meshegress.testing.HelloForms.concat;
import static io.meshegress.testing.HelloForms.record;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.HelloRetryClient;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsClients;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's first bytes as the JDK's server engine writes them: its HelloRetryRequest to a ClientHello that
 * offers no key share, and its ServerHello to a real client's ClientHello; then those bytes re-split over
 * reads and records (RFC 8446 §5.1 lets a handshake message span records, empty ones included).
 */
class ServerHelloReaderTest {
    static byte[] retryRequest;
    static byte[] serverHello;

    @BeforeAll
    static void serverFlights(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        SSLContext server = SSLContext.getInstance("TLSv1.3");
        server.init(pki.serverKeyManagers().getKeyManagers(), null, null);
        retryRequest = firstFlight(server, new HelloRetryClient().firstHello("a.qq.test"));
        serverHello = firstFlight(server, new TlsClients(pki.clientContext()).clientHello("a.qq.test"));
    }

    /** What the JDK's server engine writes back to {@code clientHello}. */
    static byte[] firstFlight(SSLContext context, byte[] clientHello) throws Exception {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        ByteBuffer in = ByteBuffer.wrap(clientHello);
        ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        for (int rounds = 0; rounds < 100; rounds++) {
            SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
            if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable t;
                while ((t = engine.getDelegatedTask()) != null) {
                    t.run();
                }
            } else if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
                engine.wrap(ByteBuffer.allocate(0), out);
                out.flip();
                written.write(out.array(), 0, out.limit());
            } else if (in.hasRemaining()) {
                engine.unwrap(in, app);
            } else {
                break;
            }
        }
        return written.toByteArray();
    }

    static ServerHelloVerdict whole(byte[] bytes) {
        return new ServerHelloReader().read(Unpooled.wrappedBuffer(bytes));
    }

    /** Each byte a read of its own, as the bytes pass a relay. */
    static ServerHelloVerdict byteByByte(byte[] bytes) {
        ServerHelloReader r = new ServerHelloReader();
        ServerHelloVerdict v = ServerHelloVerdict.INCOMPLETE;
        for (int i = 0; i < bytes.length && !v.decided(); i++) {
            v = r.read(Unpooled.wrappedBuffer(bytes, i, 1));
        }
        return v;
    }

    static void assertVerdict(byte[] bytes, ServerHelloVerdict expected) {
        assertThat(whole(bytes)).isEqualTo(expected);
        assertThat(byteByByte(bytes)).isEqualTo(expected);
    }

    /** The first record's handshake message cut at {@code cuts}, each piece a record of its own. */
    static byte[] resplit(byte[] flight, int... cuts) {
        int length = (flight[3] & 0xff) << 8 | (flight[4] & 0xff);
        byte[] message = Arrays.copyOfRange(flight, 5, 5 + length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            out.writeBytes(record(22, 0x0303, Arrays.copyOfRange(message, from, cut)));
            from = cut;
        }
        out.writeBytes(record(22, 0x0303, Arrays.copyOfRange(message, from, message.length)));
        out.write(flight, 5 + length, flight.length - 5 - length);
        return out.toByteArray();
    }

    @Test
    void theJdkServersAnswerToAHelloWithoutKeyShareIsAHelloRetryRequest() {
        assertThat(new HelloRetryClient.Record(retryRequest[0], Arrays.copyOfRange(retryRequest, 5,
                5 + ((retryRequest[3] & 0xff) << 8 | (retryRequest[4] & 0xff)))).helloRetryRequest()).isTrue();
        assertVerdict(retryRequest, new ServerHelloVerdict.RetryRequest());
    }

    @Test
    void theJdkServersServerHelloIsNoRetryRequest() {
        assertVerdict(serverHello, new ServerHelloVerdict.NoRetryRequest());
    }

    @Test
    void aRetryRequestSplitOverRecordsEmptyOnesIncludedIsFound() {
        assertVerdict(resplit(retryRequest, 0, 1, 4, 4, 10, 37), new ServerHelloVerdict.RetryRequest());
        assertVerdict(resplit(retryRequest, 38), new ServerHelloVerdict.RetryRequest());
        assertVerdict(resplit(serverHello, 0, 5, 30), new ServerHelloVerdict.NoRetryRequest());
    }

    @Test
    void anAlertOrBytesThatAreNotTlsFirstAreNoRetryRequest() {
        assertVerdict(new byte[] {21, 3, 3, 0, 2, 2, 40}, new ServerHelloVerdict.NoRetryRequest());
        assertVerdict("SSH-2.0-OpenSSH_9.6\r\n".getBytes(), new ServerHelloVerdict.NoRetryRequest());
    }

    @Test
    void anotherRecordInsideTheFirstMessageOrEndlessEmptyRecordsAreUnreadable() {
        byte[] cut = Arrays.copyOfRange(resplit(retryRequest, 10), 0, 5 + 10);
        assertThat(whole(concat(cut, new byte[] {21, 3, 3, 0, 2, 2, 40})))
                .isEqualTo(new ServerHelloVerdict.Unreadable("a alert record inside the server's first handshake message"));
        byte[] empties = new byte[5 * (ServerHelloReader.MAX_RECORDS + 1)];
        for (int i = 0; i < empties.length; i += 5) {
            empties[i] = 22;
            empties[i + 1] = 3;
            empties[i + 2] = 3;
        }
        assertVerdict(empties, new ServerHelloVerdict.Unreadable("no ServerHello in the server's first 64 records"));
    }

    @Test
    void aVerdictWaitsForTheWholeRandom() {
        assertThat(whole(Arrays.copyOf(retryRequest, 5 + 37))).isEqualTo(ServerHelloVerdict.INCOMPLETE);
        assertThat(whole(Arrays.copyOf(retryRequest, 5 + 38))).isEqualTo(new ServerHelloVerdict.RetryRequest());
    }
}
