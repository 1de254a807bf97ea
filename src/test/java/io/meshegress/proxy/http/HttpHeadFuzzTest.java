package io.meshegress.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Client bytes through the HTTP listener's parsing, exactly as the pipeline does it: Netty's decoder with the
 * project's checks (obsolete folding, versions, duplicate Host, control bytes in the target, trailer fields),
 * then the request target. Fed in fuzzer-chosen pieces, because a head split across reads must decode the same.
 *
 * <p>Invariants: nothing but a decoder result ever signals a problem (no exception escapes); every buffer is
 * released; a head the proxy would route, rewritten as the listener forwards it and written out by Netty's
 * encoder, decodes at the origin to the same method, target and headers and routes to the same host and port
 * (what goes upstream is what was judged).
 */
class HttpHeadFuzzTest {

    @FuzzTest
    void requestHeads(byte[] bytes) {
        // Raw bytes (seeds are real clients' requests as captured); how they are split comes from the bytes too.
        int pieces = 1 + (Arrays.hashCode(bytes) & 7);
        List<Object> decoded = decode(bytes, pieces);
        try {
            for (Object m : decoded) {
                if (m instanceof HttpRequest) {
                    checkRoutedHeadSurvivesReencoding((HttpRequest) m);
                }
                if (m instanceof LastHttpContent) {
                    MessageChecks.forbiddenInTrailer(((LastHttpContent) m).trailingHeaders());
                }
            }
        } finally {
            decoded.forEach(ReferenceCountUtil::release);
        }
    }

    /** Decodes {@code bytes} fed in {@code pieces} writes; the messages must be released by the caller. */
    static List<Object> decode(byte[] bytes, int pieces) {
        EmbeddedChannel ch = new EmbeddedChannel(new ProxyRequestDecoder());
        int step = Math.max(1, bytes.length / pieces);
        for (int i = 0; i < bytes.length; i += step) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(step, bytes.length - i)));
        }
        ch.finish();
        List<Object> out = new ArrayList<>();
        for (Object m; (m = ch.readInbound()) != null; ) {
            out.add(m);
        }
        return out;
    }

    /**
     * What the listener would send upstream for a head it routes ({@link ForwardedRequest}), written by Netty's
     * encoder and read back as the origin's decoder would: the same method, target, headers, and the same route.
     */
    private static void checkRoutedHeadSurvivesReencoding(HttpRequest req) {
        if (req.decoderResult().isFailure() || MessageChecks.head(req).isPresent()
                || req.method().equals(HttpMethod.CONNECT)) {
            return;
        }
        Optional<RequestTarget> target = target(req);
        if (target.isEmpty()) {
            return;
        }
        HttpRequest forwarded = new DefaultHttpRequest(req.protocolVersion(), req.method(), req.uri());
        forwarded.headers().set(req.headers());
        ForwardedRequest.rewrite(forwarded, target.get());
        EmbeddedChannel encoder = new EmbeddedChannel(new HttpRequestEncoder());
        encoder.writeOutbound(forwarded);
        encoder.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
            wire.writeBytes(b);
            b.release();
        }
        encoder.finishAndReleaseAll();
        byte[] again = new byte[wire.readableBytes()];
        wire.readBytes(again).release();
        List<Object> reparsed = decode(again, 1);
        try {
            HttpRequest atOrigin = (HttpRequest) reparsed.get(0);
            assertThat(atOrigin.decoderResult().isSuccess()).as("the forwarded head decodes").isTrue();
            assertThat(atOrigin.method()).isEqualTo(forwarded.method());
            assertThat(atOrigin.uri()).isEqualTo(forwarded.uri());
            assertThat(fields(atOrigin)).isEqualTo(fields(forwarded));
            Optional<RequestTarget> routed = target(atOrigin);
            assertThat(routed).isPresent();
            assertThat(routed.get().host()).isEqualTo(target.get().host());
            assertThat(routed.get().port()).isEqualTo(target.get().port());
        } finally {
            reparsed.forEach(ReferenceCountUtil::release);
        }
    }

    private static List<String> fields(HttpRequest req) {
        List<String> out = new ArrayList<>();
        req.headers().forEach(e -> out.add(e.getKey() + ": " + e.getValue()));
        return out;
    }

    private static Optional<RequestTarget> target(HttpRequest req) {
        try {
            return Optional.of(RequestTarget.parse(req.method(), req.uri(), req.headers().get("host")));
        } catch (RequestTarget.Invalid e) {
            return Optional.empty();
        }
    }
}
