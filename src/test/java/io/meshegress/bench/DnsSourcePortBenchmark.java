package io.meshegress.bench;

import io.meshegress.testing.TestDnsServer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverChannelStrategy;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a random source port per resolution costs a DNS cache miss: one resolution of a new name against a DNS
 * server on loopback, with Netty's resolver keeping one UDP socket for its life ({@code ChannelPerResolver},
 * what mesh-egress did) or opening one per resolution ({@code ChannelPerResolution}, what it does now). No cache,
 * so every operation is a real query. Run with {@code bench/jmh DnsSourcePort}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DnsSourcePortBenchmark {
    @Param({"ChannelPerResolver", "ChannelPerResolution"})
    public String strategy;

    private TestDnsServer dns;
    private EventLoopGroup group;
    private EventLoop loop;
    private DnsNameResolver resolver;
    private long next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dns = TestDnsServer.start("127.0.0.1").answer("*.bench.test", "192.0.2.1");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
        resolver = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                .socketChannelType(NioSocketChannel.class)
                .datagramChannelStrategy(DnsNameResolverChannelStrategy.valueOf(strategy))
                .nameServerProvider(new SingletonDnsServerAddressStreamProvider(dns.address()))
                .resolveCache(NoopDnsCache.INSTANCE)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .searchDomains(List.of())
                .ndots(1)
                .build();
    }

    @Benchmark
    public List<InetAddress> resolveANewName() throws Exception {
        return resolver.resolveAll("n" + (next++) + ".bench.test").get(5, TimeUnit.SECONDS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        resolver.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        dns.close();
    }
}
