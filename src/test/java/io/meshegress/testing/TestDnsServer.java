package io.meshegress.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server over UDP on loopback, made with Netty's DNS codec: exact names first,
 * then {@code *.suffix} wildcards, NXDOMAIN for the rest. Names in {@code silent} are never answered (a
 * server that does not answer, as far as that query can tell); {@code silentAll} answers nothing at all.
 * Every question is recorded, so tests can see what was cached.
 */
public final class TestDnsServer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<String, String> records = new ConcurrentHashMap<>();
    private final Map<String, String> records6 = new ConcurrentHashMap<>();
    private final Set<String> servfail = ConcurrentHashMap.newKeySet();
    private final Set<String> truncated = ConcurrentHashMap.newKeySet();
    private final Map<String, String[]> alternating = new ConcurrentHashMap<>();
    private final AtomicInteger alternations = new AtomicInteger();
    private final ConcurrentLinkedQueue<Integer> senderPorts = new ConcurrentLinkedQueue<>();
    private final Set<String> silent = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<String> questions = new ConcurrentLinkedQueue<>();
    private final Channel channel;
    private volatile int ttl = 60;
    private final boolean silentAll;

    private TestDnsServer(String host, boolean silentAll) throws InterruptedException {
        this.silentAll = silentAll;
        this.channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Responder());
                    }
                }).bind(host, 0).sync().channel();
    }

    public static TestDnsServer start(String host) throws InterruptedException {
        return new TestDnsServer(host, false);
    }

    /** A DNS server that receives queries and never answers any. */
    public static TestDnsServer startSilent(String host) throws InterruptedException {
        return new TestDnsServer(host, true);
    }

    /** Answers A queries for {@code name} (or {@code *.suffix}) with one or more comma-separated addresses. */
    public TestDnsServer answer(String name, String ipv4) {
        records.put(name, ipv4);
        return this;
    }

    /** Answers AAAA queries for {@code name} (or {@code *.suffix}) with one or more comma-separated addresses. */
    public TestDnsServer answerAaaa(String name, String ipv6) {
        records6.put(name, ipv6);
        return this;
    }

    /** Answers SERVFAIL for {@code name}. */
    public TestDnsServer servfail(String name) {
        servfail.add(name);
        return this;
    }

    /** Answers {@code name} over UDP with the truncation bit set and no records (there is no TCP server). */
    public TestDnsServer truncate(String name) {
        truncated.add(name);
        return this;
    }

    /** Answers A queries for {@code name} with {@code first}, then {@code second}, then {@code first} ..., TTL 0. */
    public TestDnsServer alternate(String name, String first, String second) {
        alternating.put(name, new String[] {first, second});
        return this;
    }

    /** The UDP source port of every query received, in order. */
    public List<Integer> senderPorts() {
        return List.copyOf(senderPorts);
    }

    public TestDnsServer neverAnswer(String name) {
        silent.add(name);
        return this;
    }

    public TestDnsServer ttl(int seconds) {
        this.ttl = seconds;
        return this;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** "127.0.0.1:PORT", as the config's resolver.servers takes it. */
    public String configAddress() {
        return address().getAddress().getHostAddress() + ":" + address().getPort();
    }

    /** How many questions asked for this name (any type). */
    public long questionsFor(String name) {
        return questions.stream().filter(q -> q.startsWith(name + " ")).count();
    }

    public long questionCount() {
        return questions.size();
    }

    private static String lookup(Map<String, String> records, String name) {
        String exact = records.get(name);
        if (exact != null) {
            return exact;
        }
        for (int dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
            String wildcard = records.get("*" + name.substring(dot));
            if (wildcard != null) {
                return wildcard;
            }
        }
        return null;
    }

    private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            String name = q.name().endsWith(".") ? q.name().substring(0, q.name().length() - 1) : q.name();
            name = name.toLowerCase();
            questions.add(name + " " + q.type().name());
            senderPorts.add(query.sender().getPort());
            if (silentAll || silent.contains(name)) {
                return;
            }
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.setAuthoritativeAnswer(true);
            response.addRecord(DnsSection.QUESTION, q);
            String[] pair = q.type() == DnsRecordType.A ? alternating.get(name) : null;
            String ip = pair != null ? pair[alternations.getAndIncrement() % 2]
                    : lookup(q.type() == DnsRecordType.AAAA ? records6 : records, name);
            int recordTtl = pair != null ? 0 : ttl;
            if (servfail.contains(name)) {
                response.setCode(DnsResponseCode.SERVFAIL);
            } else if (truncated.contains(name)) {
                response.setTruncated(true);
            } else if (ip == null && lookup(records, name) == null && lookup(records6, name) == null) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            } else if (ip != null && (q.type() == DnsRecordType.A || q.type() == DnsRecordType.AAAA)) {
                for (String one : ip.split(",")) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), q.type(), recordTtl,
                            Unpooled.wrappedBuffer(NetUtil.createByteArrayFromIpAddressString(one))));
                }
            }
            ctx.writeAndFlush(response);
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
