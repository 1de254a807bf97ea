package io.meshegress.tls;

import static io.meshegress.testing.HelloForms.concat;
import static io.meshegress.testing.HelloForms.entry;
import static io.meshegress.testing.HelloForms.extension;
import static io.meshegress.testing.HelloForms.message;
import static io.meshegress.testing.HelloForms.record;
import static io.meshegress.testing.HelloForms.serverNameList;
import static io.meshegress.testing.HelloForms.split;
import static io.meshegress.testing.HelloForms.withExtensionsForServerName;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.ServerOracle;
import io.meshegress.testing.TlsClients;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reader's verdicts on forms a real server reads (the JDK's server engine as {@link ServerOracle}, Go's
 * crypto/tls and OpenSSL where cited), fed whole and a byte at a time.
 */
class ClientHelloReaderTest {
    static byte[] hello;
    static byte[] message;

    @BeforeAll
    static void hello() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, null, null);
        hello = new TlsClients(c).clientHello("b.qq.test");
        message = message(hello);
    }

    static HelloVerdict whole(byte[] bytes) {
        return new ClientHelloReader().read(Unpooled.wrappedBuffer(bytes));
    }

    static HelloVerdict byteByByte(byte[] bytes) {
        ClientHelloReader r = new ClientHelloReader();
        ByteBuf held = Unpooled.buffer();
        HelloVerdict v = r.read(held);
        for (int i = 0; i < bytes.length && !v.decided(); i++) {
            v = r.read(held.writeByte(bytes[i]));
        }
        held.release();
        return v;
    }

    static void assertVerdict(byte[] bytes, HelloVerdict expected) {
        assertThat(whole(bytes)).isEqualTo(expected);
        assertThat(byteByByte(bytes)).isEqualTo(expected);
    }

    @Test
    void aRealHelloInOneRecordOrManyNamesItsHost() {
        HelloVerdict b = new HelloVerdict.Named("b.qq.test", false);
        assertVerdict(hello, b);
        byte[] tiny = split(message, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        assertThat(ServerOracle.read(tiny).hostName()).isEqualTo("b.qq.test");
        assertVerdict(tiny, b);
        assertVerdict(concat(record(new byte[0]), record(new byte[0]), hello), b);
    }

    @Test
    void notTlsIsOnlyWhatNoServerStartsAHandshakeOn() {
        assertVerdict("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII), new HelloVerdict.NotTls());
        assertVerdict("SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII), new HelloVerdict.NotTls());
        assertThat(whole(new byte[0])).isEqualTo(HelloVerdict.INCOMPLETE);
        for (int type : new int[] {20, 21, 23}) {
            assertThat(whole(record(type, 0x0303, new byte[] {1, 0}))).isInstanceOf(HelloVerdict.Unreadable.class);
        }
    }

    @Test
    void anSslV2HelloHasNoServerName() {
        // OpenSSL's servers still read an SSLv2-format ClientHello (record header with the high bit, msg_type 1);
        // it has no extensions, so no server_name.
        byte[] v2 = {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
        assertVerdict(v2, new HelloVerdict.NoServerName(false));
    }

    @Test
    void whatAServerRefusesIsUnreadable() {
        assertThat(whole(record(withExtensionsForServerName(message, extension(0, serverNameList(entry(0, "")))))))
                .isEqualTo(new HelloVerdict.Unreadable("server_name has an empty name"));
        assertThat(whole(record(withExtensionsForServerName(message, extension(0, serverNameList())))))
                .isEqualTo(new HelloVerdict.Unreadable("server_name has an empty list"));
        assertThat(whole(record(withExtensionsForServerName(message,
                extension(0, concat(serverNameList(entry(0, "b.qq.test")), new byte[] {0}))))))
                .isEqualTo(new HelloVerdict.Unreadable("server_name has bytes after its list"));
        byte[] trailing = concat(message, new byte[] {0, 0});
        trailing[3] += 2; // the handshake length covers the two extra bytes
        assertThat(whole(record(trailing))).isEqualTo(new HelloVerdict.Unreadable("ClientHello has 2 bytes after its extensions"));
        byte[] notHello = message.clone();
        notHello[0] = 2;
        assertThat(whole(record(notHello)))
                .isEqualTo(new HelloVerdict.Unreadable("the first handshake message is of type 2, not ClientHello"));
    }

    @Test
    void handshakeBytesBehindTheHelloInItsRecordAreRefused() {
        // A second ClientHello coalesced behind the first: the JDK's server reads its name after a
        // HelloRetryRequest, so it must not ride along unseen.
        byte[] two = record(concat(message, message));
        assertThat(whole(two)).isEqualTo(new HelloVerdict.Unreadable("handshake bytes after the ClientHello in its record"));
        ClientHelloReader r = new ClientHelloReader();
        byte[] twoRecords = concat(hello, hello);
        assertThat(r.read(Unpooled.wrappedBuffer(twoRecords))).isEqualTo(new HelloVerdict.Named("b.qq.test", false));
        assertThat(r.consumed()).isEqualTo(hello.length);
    }

    @Test
    void boundsAreEnforcedBeforeTheBytesArrive() {
        byte[] big = {22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x01};
        assertThat(byteByByte(big)).isEqualTo(new HelloVerdict.Unreadable("ClientHello larger than 65536 bytes (65537)"));
        byte[] overflow = {22, 3, 1, 0x40, 0x01};
        assertThat(whole(overflow)).isEqualTo(new HelloVerdict.Unreadable("a record of 16385 bytes (TLS allows 16384)"));
        byte[] empties = new byte[ClientHelloReader.MAX_RECORD_BYTES + 5];
        for (int i = 0; i + 5 <= empties.length; i += 5) {
            System.arraycopy(record(new byte[0]), 0, empties, i, 5);
        }
        assertThat(whole(empties)).isEqualTo(new HelloVerdict.Unreadable("no whole ClientHello in 131072 bytes of records"));
        assertThat(whole(Arrays.copyOf(hello, hello.length - 1))).isEqualTo(HelloVerdict.INCOMPLETE);
    }

    @Test
    void encryptedClientHelloIsSeenInAnyRecordForm() {
        byte[] ech = withExtensionsForServerName(message, extension(0, serverNameList(entry(0, "b.qq.test"))),
                extension(0xfe0d, new byte[0]));
        assertVerdict(split(ech, 5, 5, 200), new HelloVerdict.Named("b.qq.test", true));
    }
}
