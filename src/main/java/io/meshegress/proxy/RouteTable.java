package io.meshegress.proxy;

import io.meshegress.config.EgressConfig;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one answer to "may this client go there, and how?", for the proxy and for {@code check} alike. The rules,
 * in the order they are asked (the README lists the same order):
 * <ol>
 *   <li>the client: {@code policy.clients} (empty: anyone);</li>
 *   <li>the name: {@code policy.deny} first (deny wins), then {@code policy.allow} and
 *       {@code mesh.destinations} with the ports each destination lists (both empty: every host);</li>
 *   <li>the listener's port rule: a CONNECT reaches only {@code http.connectPorts} or a port that a matching
 *       destination lists; a plain HTTP request and an SNI listener have no rule beyond the name's ports;</li>
 *   <li>after resolution, every address: {@code policy.denyNetworks} (IPv4 carried in IPv6 judged as IPv4),
 *       then the proxy itself (its listeners and the admin listener: a loop).</li>
 * </ol>
 * The first refusal is the answer, with the rule that made it, in the words the access log and {@code check}
 * both print.
 */
public final class RouteTable {

    /** A refusal or an allowance, with the category each listener turns into its own answer. */
    public record Verdict(Decision decision, Refusal refusal) {
        static Verdict allow(Decision d) {
            return new Verdict(d, null);
        }

        public boolean allowed() {
            return decision.allowed();
        }

        /** {@code allowed by RULE} or {@code refused by RULE}. */
        @Override
        public String toString() {
            return decision.toString();
        }
    }

    private final EgressPolicy policy;
    private final List<Integer> connectPorts;
    private final LoopGuard loopGuard;

    public RouteTable(EgressConfig config) {
        this.policy = config.egressPolicy();
        this.connectPorts = config.http() == null ? List.of() : config.http().connectPorts();
        List<InetSocketAddress> own = new ArrayList<>();
        config.sni().forEach(s -> own.add(s.listen().socketAddress()));
        if (config.http() != null) {
            own.add(config.http().listen().socketAddress());
        }
        if (config.admin() != null) {
            // The admin endpoints are "the proxy itself" too: reaching them through a proxy listener would
            // expose /metrics (and whatever admin grows) to every client that may use the proxy.
            own.add(config.admin().listen().socketAddress());
        }
        this.loopGuard = new LoopGuard(own);
    }

    /** Rule 1 alone, for a connection's head (before any destination is known). */
    public Verdict client(InetAddress client) {
        Decision d = policy.checkClient(client);
        return d.allowed() ? Verdict.allow(d) : new Verdict(d, Refusal.CLIENT_DENIED);
    }

    /** Rules 1 to 3 for a destination, before resolution; {@code client} null: any client. */
    public Verdict decide(InetAddress client, Destination.Kind kind, String host, int port) {
        if (client != null) {
            Verdict c = client(client);
            if (!c.allowed()) {
                return c;
            }
        }
        Decision name = policy.checkName(host, port);
        if (!name.allowed()) {
            return new Verdict(name, Refusal.NAME_DENIED);
        }
        if (kind == Destination.Kind.CONNECT && !connectPorts.contains(port)
                && policy.destinationListingPort(host, port).isEmpty()) {
            return new Verdict(Decision.refuse("http.connectPorts (port " + port + " is not in " + connectPorts
                    + ")"), Refusal.PORT_DENIED);
        }
        return Verdict.allow(name);
    }

    /** {@link #decide} for a destination a listener made. */
    public Verdict decide(Destination d) {
        return decide(d.client() == null ? null : d.client().getAddress(), d.kind(), d.host(), d.port());
    }

    /**
     * Rule 4 for one resolved address: empty when it may be connected to, else the refusal with the reason as
     * the access log shows it ({@code 10.1.2.3 refused by policy.denyNetworks[1] "10.0.0.0/8"}).
     */
    public Optional<UpstreamOutcome.Refused> address(InetSocketAddress target) {
        InetAddress a = target.getAddress();
        Decision d = policy.checkAddress(a);
        if (!d.allowed()) {
            return Optional.of(new UpstreamOutcome.Refused(Refusal.NETWORK_DENIED,
                    NetUtil.toAddressString(a) + " " + d, target));
        }
        if (loopGuard.isLoop(target)) {
            return Optional.of(new UpstreamOutcome.Refused(Refusal.LOOP, "destination "
                    + NetUtil.toSocketAddressString(target) + " is this proxy itself", target));
        }
        return Optional.empty();
    }
}
