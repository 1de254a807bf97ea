package io.meshegress.tls;

import static io.meshegress.testing.HelloForms.concat;
import static io.meshegress.testing.HelloForms.message;
import static io.meshegress.testing.HelloForms.record;
import static io.meshegress.testing.HelloForms.split;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.HelloRetryClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/**
 * The client's bytes after a HelloRetryRequest, read for its second ClientHello: behind the change_cipher_spec
 * record of RFC 8446 D.4 and early data a server skips (§4.2.10), in one record or many; anything else first is
 * unreadable, TLS or not (a server would not read a name from it, and the tunnel must not pass it unjudged).
 */
class SecondClientHelloReaderTest {
    static final HelloRetryClient CLIENT = new HelloRetryClient();
    static final byte[] SECOND = CLIENT.secondHello("b.qq.test", null, false);
    static final HelloVerdict NAMED_B = new HelloVerdict.Named("b.qq.test", false);

    static HelloVerdict whole(byte[] bytes) {
        return ClientHelloReader.afterHelloRetryRequest().read(Unpooled.wrappedBuffer(bytes));
    }

    static HelloVerdict byteByByte(byte[] bytes) {
        ClientHelloReader r = ClientHelloReader.afterHelloRetryRequest();
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
    void theSecondHelloAloneOrBehindChangeCipherSpecAndEarlyDataNamesItsHost() {
        assertVerdict(SECOND, NAMED_B);
        assertVerdict(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, SECOND), NAMED_B);
        assertVerdict(concat(record(23, 0x0303, new byte[300]), record(23, 0x0303, new byte[0]),
                HelloRetryClient.CHANGE_CIPHER_SPEC, SECOND), NAMED_B);
        assertVerdict(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, split(message(SECOND), 0, 3, 50)), NAMED_B);
    }

    @Test
    void theRecordsSkippedCountInTheBound() {
        byte[] earlyData = new byte[ClientHelloReader.MAX_RECORD_PAYLOAD];
        byte[] many = new byte[0];
        for (int i = 0; i < ClientHelloReader.MAX_RECORD_BYTES / earlyData.length; i++) {
            many = concat(many, record(23, 0x0303, earlyData));
        }
        assertThat(whole(concat(many, SECOND))).isInstanceOf(HelloVerdict.Unreadable.class);
    }

    @Test
    void anythingElseBeforeItIsUnreadable() {
        assertThat(whole(concat(new byte[] {21, 3, 3, 0, 2, 1, 0}, SECOND))).isEqualTo(new HelloVerdict.Unreadable(
                "a alert record where the second ClientHello must come"));
        assertThat(whole("GET / HTTP/1.1\r\n\r\n".getBytes())).isInstanceOf(HelloVerdict.Unreadable.class);
        byte[] sslv2 = {(byte) 0x80, 0x2e, 1, 3, 1};
        assertThat(whole(sslv2)).isInstanceOf(HelloVerdict.Unreadable.class);
        // Inside the message, a skippable record type is no longer skipped (as in the first ClientHello).
        byte[] cut = split(message(SECOND), 10);
        byte[] withCcsInside = concat(java.util.Arrays.copyOf(cut, 5 + 10), HelloRetryClient.CHANGE_CIPHER_SPEC,
                java.util.Arrays.copyOfRange(cut, 5 + 10, cut.length));
        assertThat(whole(withCcsInside)).isEqualTo(new HelloVerdict.Unreadable(
                "a change_cipher_spec record inside the ClientHello"));
    }

    @Test
    void aThirdHelloBehindTheSecondInItsRecordIsUnreadable() {
        byte[] both = record(22, 0x0303, concat(message(SECOND), message(SECOND)));
        assertThat(whole(both)).isEqualTo(new HelloVerdict.Unreadable("handshake bytes after the ClientHello in its record"));
    }

    @Test
    void theFirstHelloReaderStillRefusesChangeCipherSpecFirst() {
        assertThat(new ClientHelloReader().read(Unpooled.wrappedBuffer(concat(HelloRetryClient.CHANGE_CIPHER_SPEC, SECOND))))
                .isEqualTo(new HelloVerdict.Unreadable("a change_cipher_spec record where the ClientHello must come"));
    }
}
