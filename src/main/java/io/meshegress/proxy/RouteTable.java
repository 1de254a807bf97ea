package io.meshegress.proxy;

import io.meshegress.config.EgressConfig;
import io.meshegress.identity.ClientIdentity;
import io.meshegress.identity.Identities;
import io.meshegress.policy.Decision;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.PolicyMode;
import io.meshegress.policy.Principal;
import io.meshegress.policy.Role;
import io.meshegress.policy.Workload;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one answer to "may this client go there, and how?", for the proxy and for {@code check} alike. The rules,
 * in the order they are asked (docs/configuration.md lists the same order):
 * <ol>
 *   <li>the client: {@code policy.clients} (not written: the private and local ranges); then its role: the first of {@code policy.roles}
 *       whose clients hold it, else the default role;</li>
 *   <li>the name: {@code policy.deny} first (deny wins, for every role and in every mode), then the role's own
 *       deny, then its allow-list (the default role's is {@code policy.allow} plus {@code mesh.destinations} with
 *       the ports each destination lists; both empty: no host);</li>
 *   <li>the listener's port rule: a CONNECT reaches only the role's {@code connectPorts} (else
 *       {@code http.connectPorts}, or a port a matching destination lists); plain HTTP and SNI have no rule
 *       beyond the name's ports;</li>
 *   <li>the role's mode: in {@code report}, a refusal by rule 2 (but not by policy.deny) or 3 becomes an
 *       allowance that carries the refusal it would have been;</li>
 *   <li>after resolution, every address: {@code policy.denyNetworks} (IPv4 carried in IPv6 judged as IPv4),
 *       then the proxy itself (its listeners and the admin listener: a loop). No mode relaxes these.</li>
 * </ol>
 * The first refusal is the answer, with the rule that made it, in the words the access log and {@code check}
 * both print.
 */
public final class RouteTable {

    /**
     * A refusal or an allowance, with the category each listener turns into its own answer.
     *
     * @param role        the client's role (the default role when no client is known)
     * @param wouldRefuse in report mode, the refusal enforce mode would have made; else null
     */
    public record Verdict(Decision decision, Refusal refusal, Role role, Decision wouldRefuse) {
        public boolean allowed() {
            return decision.allowed();
        }

        /** {@code allowed by RULE} or {@code refused by RULE}, and what report mode let through. */
        @Override
        public String toString() {
            return wouldRefuse == null ? decision.toString() : decision + " (would be " + wouldRefuse + ")";
        }
    }

    private final EgressPolicy policy;
    private final List<Integer> connectPorts;
    private final LoopGuard loopGuard;
    private final Identities identities;
    private final boolean refuseUnknown;
    private final boolean credentials;
    private final boolean allowMissing;

    /** The route table of a config whose clients are named by address only (or {@code check}, without a watch). */
    public RouteTable(EgressConfig config) {
        this(config, Identities.NONE);
    }

    /** @param identities names client addresses by pod (identity.kubernetes), or {@link Identities#NONE} */
    public RouteTable(EgressConfig config, Identities identities) {
        this.identities = identities;
        this.refuseUnknown = config.identity().kubernetes() != null
                && config.identity().kubernetes().unknownClient() == EgressConfig.UnknownClient.REFUSE;
        this.credentials = config.identity().credentials();
        this.allowMissing = config.identity().allowMissing();
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

    /** What the cluster says about a client address now (its pod, no pod, or not ready yet). */
    public ClientIdentity identify(InetAddress client) {
        return identities.identify(client);
    }

    /** Rule 1's admission alone, for a client named now. */
    public Verdict client(InetAddress client) {
        return client(client, identify(client));
    }

    /**
     * Rule 1's admission alone, for a connection's head (before any destination is known), with the identity
     * taken at accept: {@code policy.clients}; then no client before the first list of pods (nobody can be
     * named, and naming nobody would hand a pod the default role); then, with {@code unknownClient: refuse}, an
     * address that is no pod and in no role's clients.
     */
    public Verdict client(InetAddress client, ClientIdentity identity) {
        Decision d = policy.checkClient(client);
        Role role = role(client, identity);
        if (!d.allowed()) {
            return new Verdict(d, Refusal.CLIENT_DENIED, role, null);
        }
        if (identity instanceof ClientIdentity.NotReady) {
            return new Verdict(Decision.refuse("identity_not_ready (identity.kubernetes has not listed the "
                    + "cluster's pods yet)"), Refusal.IDENTITY_NOT_READY, role, null);
        }
        if (refuseUnknown && !credentials && identity instanceof ClientIdentity.NoPod
                && !policy.holdsByAddress(client)) {
            return new Verdict(Decision.refuse("identity.kubernetes.unknownClient refuse (client "
                    + client.getHostAddress() + " is no known pod and in no role's clients)"),
                    Refusal.CLIENT_DENIED, role, null);
        }
        return new Verdict(d, null, role, null);
    }

    /**
     * Whether a request of this connection that carries no credential must show one (a 407): only where
     * identity.basic or identity.bearer is set, and then for a client that no named role holds by address or pod
     * (unless identity.allowMissing), and for an address that unknownClient: refuse would have refused at accept.
     */
    public boolean needsCredential(Downstream d) {
        if (!credentials) {
            return false;
        }
        boolean unknown = d.identity() instanceof ClientIdentity.NoPod && !policy.holdsByAddress(d.client().getAddress());
        return (refuseUnknown && unknown) || (!allowMissing && d.role() == policy.defaultRole());
    }

    /**
     * The role of a request whose credential names {@code principal}: the first role whose workloads select its user
     * or service account, else the role its connection has by address or pod.
     */
    public Role role(Downstream d, Principal principal) {
        return policy.role(principal).orElse(d.role());
    }

    /** The role a credential's principal selects (empty: none; its requests keep their address's role). */
    public Optional<Role> role(Principal principal) {
        return policy.role(principal);
    }

    /** Why a credential's principal has a role (empty: none selects it), in the config's words. */
    public Optional<String> roleReason(Principal principal) {
        return policy.roleReason(principal);
    }

    /** The role of a client named now (null: no client known, the default). */
    public Role role(InetAddress client) {
        return client == null ? policy.defaultRole() : role(client, identify(client));
    }

    /** The role of a client with the identity it had at accept, decided once per connection at its head. */
    public Role role(InetAddress client, ClientIdentity identity) {
        return policy.role(client, identity.workloadOrNull());
    }

    /** Why a client has its role, in the config's words (for {@code check} and {@code /explain}). */
    public String roleReason(InetAddress client) {
        return policy.roleReason(client, identify(client).workloadOrNull());
    }

    /** Rules 1 to 4 for a destination, before resolution; {@code client} null: any client (the default role). */
    public Verdict decide(InetAddress client, Destination.Kind kind, String host, int port) {
        if (client == null) {
            return decide(policy.defaultRole(), kind, host, port);
        }
        ClientIdentity identity = identify(client);
        Verdict c = client(client, identity);
        if (!c.allowed()) {
            return c;
        }
        return decide(role(client, identity), kind, host, port);
    }

    /**
     * Rules 1 to 4 for a client the asker names ({@code check --workload}, {@code /explain?workload=}): at this
     * address (null: any address, rule 1 not asked) as this pod, whatever the watch says of the address.
     */
    public Verdict decide(InetAddress client, Workload workload, Destination.Kind kind, String host, int port) {
        ClientIdentity identity = new ClientIdentity.Pod(workload);
        if (client == null) {
            return decide(policy.role(null, workload), kind, host, port);
        }
        Verdict c = client(client, identity);
        return c.allowed() ? decide(role(client, identity), kind, host, port) : c;
    }

    /**
     * Rules 1 to 4 for a request with a good credential the asker names ({@code check --user},
     * {@code /explain?user=}): from this address (null: any address, rule 1 not asked), as this principal. The role
     * is the one its credential selects, else the address's.
     */
    public Verdict decide(InetAddress client, Principal principal, Destination.Kind kind, String host, int port) {
        Role role = policy.role(principal).orElse(client == null ? policy.defaultRole() : role(client));
        if (client != null) {
            Decision d = policy.checkClient(client);
            if (!d.allowed()) {
                return new Verdict(d, Refusal.CLIENT_DENIED, role, null);
            }
        }
        return decide(role, kind, host, port);
    }

    /** The role of a client the asker names: at this address (null: any) as this pod. */
    public Role role(InetAddress client, Workload workload) {
        return policy.role(client, workload);
    }

    /** Why a client the asker names has its role, in the config's words. */
    public String roleReason(InetAddress client, Workload workload) {
        return policy.roleReason(client, workload);
    }

    /** {@link #decide} for a destination a listener made, with the role decided at its connection's head. */
    public Verdict decide(Destination d) {
        return decide(d.downstream().role(), d.kind(), d.host(), d.port());
    }

    /** Rules 2 to 4 for a client of {@code role} (admitted already). */
    public Verdict decide(Role role, Destination.Kind kind, String host, int port) {
        Decision global = policy.globalDeny(host);
        if (global != null) {
            return new Verdict(global, Refusal.NAME_DENIED, role, null);
        }
        Verdict enforced = enforce(role, kind, host, port);
        if (enforced.allowed() || role.mode() == PolicyMode.ENFORCE) {
            return enforced;
        }
        return new Verdict(Decision.allow(role.path() + ".mode report"), null, role, enforced.decision());
    }

    /** Rules 2 and 3 after policy.deny, which {@link #decide} asked already (not twice per request). */
    private Verdict enforce(Role role, Destination.Kind kind, String host, int port) {
        Decision name = role.checkName(host, port);
        if (!name.allowed()) {
            return new Verdict(name, Refusal.NAME_DENIED, role, null);
        }
        if (kind == Destination.Kind.CONNECT) {
            Optional<List<Integer>> narrowed = role.connectPorts();
            List<Integer> ports = narrowed.orElse(connectPorts);
            if (!ports.contains(port) && (narrowed.isPresent()
                    || role.destinationListingPort(host, port).isEmpty())) {
                String rule = narrowed.isPresent() ? role.path() + ".connectPorts" : "http.connectPorts";
                return new Verdict(Decision.refuse(rule + " (port " + port + " is not in " + ports + ")"),
                        Refusal.PORT_DENIED, role, null);
            }
        }
        return new Verdict(name, null, role, null);
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
