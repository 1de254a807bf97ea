package io.meshegress.proxy.sni;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.ClientHelloExtensions;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The SNI listener's path from client bytes to a decision, without sockets: Netty's ClientHello parser (the one
 * {@link SniRouter} extends, with the same 64 KiB limit) fed in fuzzer-chosen pieces, then the server_name
 * through the same normalization and policy check the router uses. Invariants: no exception escapes the parser;
 * a server_name that is no host name is refused with a short one-line reason; a valid one is normalized, and
 * its case- or trailing-dot variants get the same decision.
 */
class ClientHelloFuzzTest {
    private static final EgressConfig CONFIG;
    private static final EgressPolicy POLICY;

    static {
        try {
            CONFIG = ConfigLoader.parse("fuzz.yaml", """
                    policy:
                      allow: ["*.qq.com", "api.example.com"]
                      deny: ["bad.qq.com"]
                    mesh:
                      destinations: []
                    """);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
        POLICY = CONFIG.egressPolicy();
    }

    @FuzzTest
    void clientHellos(byte[] bytes) {
        // Raw bytes (seeds are real clients' ClientHellos as captured); how they are split comes from the bytes too.
        int pieces = 1 + (Arrays.hashCode(bytes) & 7);
        Recorder recorder = new Recorder();
        RefusalRecorder refusals = new RefusalRecorder();
        EmbeddedChannel ch = new EmbeddedChannel(recorder, refusals);
        int step = Math.max(1, bytes.length / pieces);
        for (int i = 0; i < bytes.length && ch.isOpen(); i += step) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(step, bytes.length - i)));
        }
        ch.finishAndReleaseAll();
        // What the parser refuses it refuses as a decoder error (SniRouter answers those with a TLS alert).
        if (refusals.cause != null) {
            assertThat(refusals.cause).isInstanceOf(DecoderException.class);
        }
        if (recorder.hostname == null) {
            return;
        }
        assertThat(recorder.serverNameExtension).as("the extension scan finds server_name where Netty found it")
                .isTrue();
        Optional<String> host = HostPattern.normalizeHost(recorder.hostname);
        if (host.isEmpty()) {
            assertThat(SniRouter.invalidNameReason(recorder.hostname)).doesNotContain("\n").hasSizeLessThan(200);
            return;
        }
        String h = host.get();
        assertThat(h).isEqualTo(h.toLowerCase(Locale.ROOT)).doesNotEndWith(".");
        Decision d = POLICY.checkName(h, 443);
        HostPattern.normalizeHost(h.toUpperCase(Locale.ROOT) + ".")
                .ifPresent(other -> assertThat(POLICY.checkName(other, 443)).isEqualTo(d));
    }

    @FuzzTest
    void extensionScan(byte[] bytes) {
        // Any bytes at all, read as a ClientHello body: bounded, never an exception, never past the buffer.
        io.netty.buffer.ByteBuf b = Unpooled.wrappedBuffer(bytes);
        for (int type : new int[] {0, ClientHelloExtensions.ENCRYPTED_CLIENT_HELLO, 0xffff}) {
            ClientHelloExtensions.has(b, type);
        }
        assertThat(b.readerIndex()).isZero();
    }

    /** Where the listener's failure handler sits: keeps what the parser threw instead of failing the channel. */
    private static final class RefusalRecorder extends ChannelInboundHandlerAdapter {
        Throwable cause;

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            this.cause = cause;
            ctx.close();
        }
    }

    /** Netty's ClientHello parsing, keeping the server_name it found. */
    private static final class Recorder extends AbstractSniHandler<String> {
        String hostname;
        boolean serverNameExtension;

        @Override
        protected Future<String> lookup(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf clientHello) throws Exception {
            // Our own extension scan (used for Encrypted Client Hello) must see what Netty's parser sees.
            serverNameExtension = clientHello != null && ClientHelloExtensions.has(clientHello, 0);
            return super.lookup(ctx, clientHello);
        }

        Recorder() {
            super(SniRouter.MAX_CLIENT_HELLO, 0L);
        }

        @Override
        protected Future<String> lookup(ChannelHandlerContext ctx, String hostname) {
            this.hostname = hostname;
            return ctx.executor().newSucceededFuture(hostname);
        }

        @Override
        protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<String> future) {
        }
    }

}
