package io.meshegress.bench;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.HostPattern;
import io.meshegress.tls.ClientHelloReader;
import io.meshegress.tls.HelloVerdict;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-connection work of the SNI listener before any upstream is involved: the ClientHello reader
 * of a real JDK ClientHello (in one record, and split over five records), the host normalization and the
 * policy decision. Run with {@code bench/jmh ClientHello}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClientHelloBenchmark {
    private byte[] hello;
    private byte[] splitHello;
    private EgressPolicy policy;

    @Setup
    public void setup() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine engine = ctx.createSSLEngine("api.example.qq.com", 443);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(64 * 1024);
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        hello = new byte[out.remaining()];
        out.get(hello);
        splitHello = split(hello, 5);
        EgressConfig c = ConfigLoader.parse("bench.yaml", "policy:\n  deny: [\"*.ads.qq.com\"]\n");
        policy = c.egressPolicy();
    }

    /** The same handshake payload in {@code parts} TLS records. */
    private static byte[] split(byte[] record, int parts) {
        int length = ((record[3] & 0xff) << 8) | (record[4] & 0xff);
        int size = (length + parts - 1) / parts;
        ByteBuf out = Unpooled.buffer();
        for (int i = 0; i < length; i += size) {
            int n = Math.min(size, length - i);
            out.writeBytes(record, 0, 3).writeShort(n).writeBytes(record, 5 + i, n);
        }
        byte[] b = new byte[out.readableBytes()];
        out.readBytes(b);
        return b;
    }

    /** Reads with the listeners' ClientHello reader, as the SNI listener does, and decides as the policy does. */
    private Decision route(byte[] bytes) {
        HelloVerdict v = new ClientHelloReader().read(Unpooled.wrappedBuffer(bytes));
        String host = HostPattern.normalizeHost(((HelloVerdict.Named) v).serverName()).orElseThrow();
        return policy.checkName(host, 443);
    }

    @Benchmark
    public Decision oneRecord() {
        return route(hello);
    }

    @Benchmark
    public Decision fiveRecords() {
        return route(splitHello);
    }
}
