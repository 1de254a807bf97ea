package io.meshegress.proxy.head;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TLV length of a v2 header's fixed part, against HAProxy's proxy-protocol.txt section 2.2: the 12-byte
 * signature, ver_cmd (0x2X), fam (high nibble 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX), and len, the bytes after the
 * fixed part, of which the address block is 0, 12, 36 or 216 bytes.
 */
class ProxyV2PrefixTest {
    static final String SIGNATURE = "0d0a0d0a000d0a515549540a";

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "TCP4 with 257,   2111, 010d, 257",
            "TCP4 with none,  2111, 000c, 0",
            "TCP6 with 257,   2121, 0125, 257",
            "UNIX with 256,   2131, 01d8, 256",
            "LOCAL UNSPEC 20, 2000, 0014, 20",
    })
    void theTlvBytesAreTheLengthLessTheFamilysAddressBlock(String name, String verCmdFam, String len, int tlv) {
        ProxyV2Prefix p = new ProxyV2Prefix();
        p.add(Unpooled.wrappedBuffer(HexFormat.of().parseHex(SIGNATURE + verCmdFam + len)));
        assertThat(p.tlvBytes()).hasValue(tlv);
    }

    @Test
    void aFixedPartArrivingInPiecesIsReadWhole() {
        byte[] all = HexFormat.of().parseHex(SIGNATURE + "2111" + "010d" + "0a0b0c");
        ProxyV2Prefix p = new ProxyV2Prefix();
        for (int i = 0; i < all.length && !p.complete(); i++) {
            assertThat(p.tlvBytes()).isEmpty();
            p.add(Unpooled.wrappedBuffer(all, i, 1));
        }
        assertThat(p.tlvBytes()).hasValue(257);
    }

    @Test
    void v1AndMalformedFamiliesOrLengthsAreLeftToTheDecoder() {
        ProxyV2Prefix v1 = new ProxyV2Prefix();
        v1.add(Unpooled.wrappedBuffer("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\\r\\n".getBytes()));
        assertThat(v1.tlvBytes()).isEmpty();
        ProxyV2Prefix family = new ProxyV2Prefix();
        family.add(Unpooled.wrappedBuffer(HexFormat.of().parseHex(SIGNATURE + "2141" + "0100")));
        assertThat(family.tlvBytes()).isEmpty();
        ProxyV2Prefix shortLength = new ProxyV2Prefix();
        shortLength.add(Unpooled.wrappedBuffer(HexFormat.of().parseHex(SIGNATURE + "2121" + "000c")));
        assertThat(shortLength.tlvBytes()).isEmpty();
    }
}
