package io.meshegress.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.transport.Transport;
import io.meshegress.testing.TestDnsServer;
import io.meshegress.testing.Configs;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The resolver against a real DNS server over UDP on loopback. */
class EgressResolverTest {
    TestDnsServer dns;
    MultiThreadIoEventLoopGroup group;
    EventLoop loop;
    EgressResolver resolver;

    @BeforeEach
    void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1").answer("*.qq.test", "127.0.0.3").ttl(3600);
        group = Transport.select().newGroup(1);
        loop = group.next();
    }

    @AfterEach
    void stop() {
        if (resolver != null) {
            loop.submit(resolver::close).syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        dns.close();
    }

    EgressResolver resolver(String extra) throws Exception {
        EgressConfig c = ConfigLoader.parse("t.yaml", Configs.withDefaultListeners("resolver:\n  servers: [\"" + dns.configAddress() + "\"]\n" + extra));
        resolver = new EgressResolver(c.resolver(), Transport.select(), new io.meshegress.observe.ProxyMetrics());
        return resolver;
    }

    List<InetAddress> resolve(String host) throws Exception {
        Future<List<InetAddress>> f = resolver.resolve(host, loop).await();
        if (!f.isSuccess()) {
            throw (Exception) f.cause();
        }
        return f.getNow();
    }

    Throwable failure(String host) throws Exception {
        Future<List<InetAddress>> f = resolver.resolve(host, loop);
        assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.isSuccess()).isFalse();
        return f.cause();
    }

    @Test
    void recordTtlIsCappedByMaxTtl() throws Exception {
        resolver("  maxTtl: 1s\n");
        assertThat(resolve("a.qq.test")).containsExactly(InetAddress.getByName("127.0.0.3"));
        resolve("a.qq.test");
        assertThat(dns.questionsFor("a.qq.test")).isEqualTo(1);
        // The record says an hour; the cap says one second, after which the name is asked again.
        Awaitility.await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(200)).until(() -> {
            resolve("a.qq.test");
            return dns.questionsFor("a.qq.test") == 2;
        });
    }

    @Test
    void ipv4OnlyByDefaultAndBothFamiliesWithIpv6() throws Exception {
        resolver("");
        resolve("v4.qq.test");
        assertThat(dns.questionsFor("v4.qq.test")).isEqualTo(1);
        stop();
        start();
        resolver("  ipv6: true\n");
        resolve("v6.qq.test");
        assertThat(dns.questionsFor("v6.qq.test")).isEqualTo(2);
    }

    @Test
    void staticHostsAndIpLiteralsNeedNoDns() throws Exception {
        resolver("  hosts:\n    fixed.example: 192.0.2.7\n");
        assertThat(resolve("fixed.example")).containsExactly(InetAddress.getByName("192.0.2.7"));
        assertThat(resolve("192.0.2.9")).containsExactly(InetAddress.getByName("192.0.2.9"));
        assertThat(dns.questionCount()).isZero();
    }

    @Test
    void ipv6LiteralIsRefusedWhenIpv6IsOff() throws Exception {
        resolver("");
        assertThat(failure("2001:db8::1")).hasMessage("2001:db8::1 is an IPv6 address and resolver.ipv6 is false");
    }

    @Test
    void aServerThatNeverAnswersCostsTheQueryTimeout() throws Exception {
        try (TestDnsServer silent = TestDnsServer.startSilent("127.0.0.1")) {
            EgressConfig c = ConfigLoader.parse("t.yaml", Configs.withDefaultListeners("resolver:\n  servers: [\""
                    + silent.configAddress() + "\"]\n  queryTimeout: 500ms\n"));
            resolver = new EgressResolver(c.resolver(), Transport.select(), new io.meshegress.observe.ProxyMetrics());
            long start = System.nanoTime();
            Throwable t = failure("any.qq.test");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(t).isInstanceOf(EgressResolver.ResolveException.class)
                    .hasMessage("DNS query for any.qq.test timed out");
            assertThat(((EgressResolver.ResolveException) t).timeout()).isTrue();
            assertThat(ms).isBetween(400L, 5000L);
            assertThat(silent.questionsFor("any.qq.test")).isPositive();
        }
    }
}
