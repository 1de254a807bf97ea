package io.meshegress.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.testing.ServerOracle;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Locale;

/**
 * Whatever bytes open a connection, the listeners' verdict agrees with the name a real TLS server would route
 * by. The server is the JDK's {@link javax.net.ssl.SSLEngine} in server mode ({@link ServerOracle}: an
 * SNIMatcher records the host_name it reads). Invariants, for bytes arriving in fuzzer-chosen pieces:
 * <ul>
 *   <li>the verdict is the same however the bytes are split (the reassembly is incremental);</li>
 *   <li>when the server reads a host_name, the verdict is that name (ASCII case aside) or a refusal
 *       ({@link HelloVerdict.Unreadable}) or still waiting; never "not TLS", "no name" or another name;</li>
 *   <li>when the server reads a ClientHello without a name, the verdict is no name, a refusal or waiting.</li>
 * </ul>
 * A refusal is always safe (the tunnel ends), so the server is only consulted on verdicts that let bytes pass,
 * and only on the records that carried the first ClientHello: the JDK's server reads the server_name of a second
 * ClientHello after a HelloRetryRequest again, which no reading of the first flight can judge (found by this
 * target; the seed {@code second-hello-after-retry} keeps the case).
 * Seeds: real ClientHellos split over records, with empty records, with server_name lists in several shapes.
 */
class ClientHelloReaderFuzzTest {

    @FuzzTest
    void agreesWithAServer(byte[] bytes) {
        ClientHelloReader reader = new ClientHelloReader();
        HelloVerdict whole = reader.read(Unpooled.wrappedBuffer(bytes));
        int pieces = 1 + (Arrays.hashCode(bytes) & 15);
        assertThat(inPieces(bytes, pieces)).as("the same verdict in %d pieces", pieces).isEqualTo(whole);
        if (whole instanceof HelloVerdict.Unreadable || whole instanceof HelloVerdict.Incomplete) {
            return; // nothing passes: whatever a server reads, the check is on the safe side
        }
        // The server reads the records that carried the first ClientHello, as the check does: what a client
        // sends after them (a second ClientHello after a HelloRetryRequest) is beyond this check.
        int upTo = reader.consumed() > 0 ? reader.consumed() : bytes.length;
        ServerOracle.Reading server = ServerOracle.read(Arrays.copyOf(bytes, upTo));
        if (server.hostName() != null) {
            assertThat(whole).as("the server routes by %s (%s)", server.hostName(), server)
                    .isInstanceOf(HelloVerdict.Named.class);
            assertThat(((HelloVerdict.Named) whole).serverName().toLowerCase(Locale.ROOT))
                    .isEqualTo(server.hostName().toLowerCase(Locale.ROOT));
        } else if (server.sawClientHello()) {
            assertThat(whole).as("the server read a ClientHello without a name (%s)", server)
                    .isInstanceOf(HelloVerdict.NoServerName.class);
        }
    }

    private static HelloVerdict inPieces(byte[] bytes, int pieces) {
        ClientHelloReader reader = new ClientHelloReader();
        ByteBuf held = Unpooled.buffer();
        try {
            HelloVerdict v = reader.read(held);
            int step = Math.max(1, bytes.length / pieces);
            for (int i = 0; i < bytes.length && !v.decided(); i += step) {
                held.writeBytes(bytes, i, Math.min(step, bytes.length - i));
                v = reader.read(held);
            }
            return v;
        } finally {
            held.release();
        }
    }
}
