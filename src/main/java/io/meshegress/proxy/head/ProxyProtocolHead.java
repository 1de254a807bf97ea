package io.meshegress.proxy.head;

import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.Downstream;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.RouteTable;
import io.meshegress.proxy.timer.Deadline;
import io.meshegress.text.Quote;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The head of a listener with {@code proxyProtocol: required}: a PROXY protocol header (v1 or v2, parsed by
 * Netty's decoder) must open every connection, from a peer in {@code trustedSources}. The spec forbids guessing
 * whether a header is there, so a connection without one is refused, as is one from an untrusted peer (before a
 * byte of it is read), a malformed, truncated or oversized header, or one slower than {@code timeouts.handshake}.
 * A LOCAL command (a health check) is closed cleanly. A PROXY command names the client: the {@link Downstream}
 * is decided again from it, and only then is the rest of the listener's pipeline installed and made active, so
 * admission, roles, limits and the log all see the header's source.
 */
public final class ProxyProtocolHead {
    /**
     * TLVs are not used; 256 bytes of them is more than any sender here writes (Envoy writes none unless told
     * to; AWS's and GCP's load balancers add one of under 64 bytes).
     */
    static final int MAX_TLV_BYTES = 256;
    private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] V2 = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

    private ProxyProtocolHead() {
    }

    /**
     * Puts the head on {@code ch}; {@code rest} installs the listener's own pipeline once the client is known.
     *
     * @param needsPort the listener takes its upstream port from the header, so a header without one is refused
     */
    public static void install(Channel ch, EgressConfig.ProxyProtocol settings, ProxyRuntime runtime, boolean needsPort,
                               ConnectionHead.Refuser refuser, Runnable rest) {
        install(ch, settings, new Needs(runtime.config().timeouts().handshake(), runtime.routes(), runtime.metrics()),
                needsPort, refuser, rest);
    }

    /** What the head needs of a configuration's runtime (the fuzz test gives it just this). */
    public record Needs(Duration handshake, RouteTable routes, io.meshegress.observe.ProxyMetrics metrics) {
    }

    public static void install(Channel ch, EgressConfig.ProxyProtocol settings, Needs runtime, boolean needsPort,
                               ConnectionHead.Refuser refuser, Runnable rest) {
        Gate gate = new Gate(settings, runtime, refuser);
        ch.pipeline()
                .addLast("proxy-protocol-gate", gate)
                .addLast("proxy-protocol-decoder", new HAProxyMessageDecoder(MAX_TLV_BYTES))
                .addLast("proxy-protocol-reader", new Reader(gate, runtime, needsPort, rest));
    }

    private enum State { AWAITING, STARTED, DONE, REFUSED }

    /** Before the decoder: who may send a header, whether the first bytes can be one, and how long it may take. */
    private static final class Gate extends ChannelInboundHandlerAdapter {
        private final EgressConfig.ProxyProtocol settings;
        private final Needs runtime;
        private final ConnectionHead.Refuser refuser;
        private final Deadline deadline;
        private final ProxyV2Prefix prefix = new ProxyV2Prefix();
        private ChannelHandlerContext ctx;
        private State state = State.AWAITING;

        Gate(EgressConfig.ProxyProtocol settings, Needs runtime, ConnectionHead.Refuser refuser) {
            this.settings = settings;
            this.runtime = runtime;
            this.refuser = refuser;
            this.deadline = new Deadline(() -> refuse("slow", 408, "no complete PROXY protocol header within "
                    + "timeouts.handshake"));
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // Not passed on: the listener's pipeline becomes active when the header has named the client.
            InetSocketAddress peer = Downstream.of(ctx.channel()).client();
            if (settings.trustedSources().stream().noneMatch(c -> c.contains(peer.getAddress()))) {
                refuse("untrusted", 403, "peer " + NetUtil.toAddressString(peer.getAddress())
                        + " is not in trustedSources " + settings.trustedSources() + " (it may not send a PROXY header)");
                return;
            }
            deadline.start(ctx.executor(), runtime.handshake().toNanos());
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (state == State.REFUSED) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (state == State.AWAITING && msg instanceof ByteBuf b && b.isReadable()) {
                if (!startsLike(b, V1) && !startsLike(b, V2)) {
                    String began = printable(b);
                    ReferenceCountUtil.release(msg);
                    refuse("missing", 400, "no PROXY protocol header (this listener requires one); the connection "
                            + "began with " + Quote.shortly(began));
                    return;
                }
                state = State.STARTED;
            }
            if (state == State.STARTED && msg instanceof ByteBuf b && !prefix.complete()) {
                prefix.add(b);
                int tlv = prefix.tlvBytes().orElse(0);
                if (tlv > MAX_TLV_BYTES) {
                    ReferenceCountUtil.release(msg);
                    refuse("malformed", 400, "oversized PROXY protocol header: " + tlv + " bytes of TLVs (at most "
                            + MAX_TLV_BYTES + ")");
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (state == State.STARTED || state == State.AWAITING) {
                ctx.read(); // the header is not whole yet
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof ChannelInputShutdownEvent && (state == State.AWAITING || state == State.STARTED)) {
                refuse("malformed", 400, state == State.AWAITING ? "the client ended its input before a PROXY "
                        + "protocol header" : "truncated PROXY protocol header (the client ended its input inside it)");
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            deadline.cancel();
            super.channelInactive(ctx);
        }

        void headerDone() {
            state = State.DONE;
            deadline.cancel();
            ctx.pipeline().remove(this);
        }

        void refuse(String result, int status, String reason) {
            if (state == State.REFUSED || state == State.DONE) {
                return;
            }
            state = State.REFUSED;
            deadline.cancel();
            runtime.metrics().proxyHeader(Downstream.of(ctx.channel()).listener(), result);
            refuser.refuse(ctx.channel(), status, reason);
        }

        /** Whether the first bytes of {@code b} agree with {@code prefix} as far as both go. */
        private static boolean startsLike(ByteBuf b, byte[] prefix) {
            int n = Math.min(b.readableBytes(), prefix.length);
            for (int i = 0; i < n; i++) {
                if (b.getByte(b.readerIndex() + i) != prefix[i]) {
                    return false;
                }
            }
            return true;
        }

        private static String printable(ByteBuf b) {
            int n = Math.min(b.readableBytes(), 16);
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                int c = b.getUnsignedByte(b.readerIndex() + i);
                s.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\x%02x", c));
            }
            return s.toString();
        }
    }

    /** After the decoder: the header's command and addresses. */
    private static final class Reader extends ChannelInboundHandlerAdapter {
        private final Gate gate;
        private final Needs runtime;
        private final boolean needsPort;
        private final Runnable rest;

        Reader(Gate gate, Needs runtime, boolean needsPort, Runnable rest) {
            this.gate = gate;
            this.runtime = runtime;
            this.needsPort = needsPort;
            this.rest = rest;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage m)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                read(ctx, m);
            } finally {
                m.release();
            }
        }

        private void read(ChannelHandlerContext ctx, HAProxyMessage m) {
            if (gate.state == State.REFUSED || gate.state == State.DONE || !ctx.channel().isActive()) {
                // One outcome per connection. Netty's decoder closes the channel on a malformed header and, as the
                // channel goes inactive, decodes what followed it: a second header must not undo the refusal
                // (found by fuzzing: "PROXY WN" then a valid header was refused and then handed on).
                return;
            }
            String listener = Downstream.of(ctx.channel()).listener();
            if (m.command() == HAProxyCommand.LOCAL) {
                // A health check of the sender's own: nothing to serve, nothing to log per connection.
                runtime.metrics().proxyHeader(listener, "local");
                gate.state = State.DONE;
                gate.deadline.cancel();
                ctx.close();
                return;
            }
            HAProxyProxiedProtocol p = m.proxiedProtocol();
            if (p != HAProxyProxiedProtocol.TCP4 && p != HAProxyProxiedProtocol.TCP6) {
                gate.refuse("malformed", 400, "PROXY protocol header for " + p + " (only TCP over IPv4 or IPv6 is "
                        + "proxied here)");
                return;
            }
            if (needsPort && m.destinationPort() == 0) {
                gate.refuse("malformed", 400, "PROXY protocol header without a destination port (upstreamPort: header)");
                return;
            }
            InetSocketAddress source = new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(
                    m.sourceAddress()), m.sourcePort());
            Downstream.fromHeader(ctx.channel(), source, m.destinationPort(), runtime.routes());
            runtime.metrics().proxyHeader(listener, "proxy");
            gate.headerDone();
            rest.run();
            ctx.fireChannelActive();
            ctx.pipeline().remove(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof HAProxyProtocolException) {
                // The decoder has closed the connection already (as the spec asks); the log says why.
                String why = cause.getMessage() != null ? cause.getMessage()
                        : cause.getCause() != null ? cause.getCause().getMessage() : "unreadable";
                gate.refuse("malformed", 400, "malformed PROXY protocol header: " + Quote.shortly(why));
                return;
            }
            ctx.close();
        }
    }
}
