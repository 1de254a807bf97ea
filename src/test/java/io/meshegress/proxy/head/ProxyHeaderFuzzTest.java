package io.meshegress.proxy.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.policy.Cidr;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.RouteTable;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The PROXY protocol head (our gate and reader around Netty's decoder) under any bytes, split anywhere: it
 * either hands the connection on once, with the header's source as the client, or refuses it once with a
 * one-line reason, or closes a LOCAL; never both, never an exception out of the pipeline, never a leaked buffer
 * (the suite runs Netty's leak detector at paranoid).
 */
class ProxyHeaderFuzzTest {
    private static final ProxyProtocolHead.Needs NEEDS;
    private static final EgressConfig.ProxyProtocol SETTINGS =
            new EgressConfig.ProxyProtocol(true, List.of(Cidr.parse("127.0.0.0/8")));

    static {
        try {
            NEEDS = new ProxyProtocolHead.Needs(Duration.ofSeconds(10),
                    new RouteTable(ConfigLoader.parse("f.yaml",
                            "http: {listen: \"127.0.0.1:8080\"}\nmesh: {destinations: []}")), new ProxyMetrics());
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** An embedded channel whose peer is a TCP address, as an accepted socket's is. */
    private static final class Accepted extends EmbeddedChannel {
        Accepted() {
            super(false, false);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return new InetSocketAddress("127.0.0.9", 40000);
        }
    }

    @FuzzTest
    void headers(FuzzedDataProvider data) throws Exception {
        boolean needsPort = data.consumeBoolean();
        int pieces = data.consumeInt(1, 8);
        byte[] bytes = data.consumeRemainingAsBytes();
        Accepted ch = new Accepted();
        List<String> refusals = new ArrayList<>();
        int[] handedOn = {0};
        Downstream.accept(ch, "sni 127.0.0.1:8443", "sni", NEEDS.routes());
        ProxyProtocolHead.install(ch, SETTINGS, NEEDS, needsPort, (c, status, reason) -> refusals.add(status + " " + reason),
                () -> handedOn[0]++);
        ch.register();
        int step = Math.max(1, bytes.length / pieces);
        for (int i = 0; i < bytes.length && ch.isOpen() && refusals.isEmpty() && handedOn[0] == 0; i += step) {
            ch.writeInbound(Unpooled.copiedBuffer(bytes, i, Math.min(step, bytes.length - i)));
        }
        ch.runPendingTasks();
        assertThat(refusals.size() + handedOn[0]).as("refused or handed on, at most once").isLessThanOrEqualTo(1);
        for (String r : refusals) {
            assertThat(r).doesNotContain("\n").doesNotContain("\r").hasSizeLessThan(400);
        }
        if (handedOn[0] == 1) {
            Downstream d = Downstream.of(ch);
            assertThat(d.client()).isNotNull();
            assertThat(d.peer()).isEqualTo(new InetSocketAddress("127.0.0.9", 40000));
            if (needsPort) {
                assertThat(d.headerPort()).isPositive();
            }
        }
        ch.finishAndReleaseAll();
    }
}
