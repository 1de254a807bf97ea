package io.meshegress.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A DNS answer as the resolver receives it: Netty's datagram decoder (the one its resolver uses), then every
 * A and AAAA record's address through the policy's address check, as the upstream connector does after a
 * lookup. Invariants: a malformed datagram is a decoder error and nothing else; every buffer is released; every
 * address record of the right length is judged, and one of the wrong length is not an address.
 */
class DnsAnswerFuzzTest {
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 53);
    private static final InetSocketAddress US = new InetSocketAddress("127.0.0.1", 40000);
    private static final EgressConfig DEFAULTS = ConfigLoader.embeddedDefault();
    private static final EgressPolicy POLICY = DEFAULTS.egressPolicy();

    @FuzzTest
    void answers(byte[] datagram) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new DatagramDnsResponseDecoder());
        try {
            ch.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(datagram), US, SERVER));
        } catch (DecoderException e) {
            // Netty wraps every parse failure (corrupt frame, bad pointer, short record) in DecoderException.
            ch.finishAndReleaseAll();
            return;
        }
        for (Object m; (m = ch.readInbound()) != null; ) {
            try {
                judge((DnsResponse) m);
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    private static void judge(DnsResponse response) throws Exception {
        for (int i = 0; i < response.count(DnsSection.ANSWER); i++) {
            DnsRecord r = response.recordAt(DnsSection.ANSWER, i);
            if (!(r instanceof DnsRawRecord)) {
                continue;
            }
            boolean a = r.type() == DnsRecordType.A;
            boolean aaaa = r.type() == DnsRecordType.AAAA;
            ByteBuf content = ((DnsRawRecord) r).content();
            if ((a && content.readableBytes() == 4) || (aaaa && content.readableBytes() == 16)) {
                byte[] bytes = new byte[content.readableBytes()];
                content.getBytes(content.readerIndex(), bytes);
                Decision d = POLICY.checkAddress(InetAddress.getByAddress(bytes));
                assertThat(d.rule()).isNotEmpty().doesNotContain("\n");
            }
        }
    }
}
