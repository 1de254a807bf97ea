package io.meshegress.proxy;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/** The end of the path before the relay: a connected upstream, or a refusal with its reason. */
public sealed interface UpstreamOutcome {

    /** An upstream connection, not yet reading (auto-read is off until the relay starts). */
    record Connected(Channel channel, InetSocketAddress address, String rule) implements UpstreamOutcome {
    }

    /** @param resolved the address involved, when the refusal came after resolution; else null */
    record Refused(Refusal refusal, String reason, InetSocketAddress resolved) implements UpstreamOutcome {
    }
}
