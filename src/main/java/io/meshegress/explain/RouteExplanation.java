package io.meshegress.explain;

import io.meshegress.config.EgressConfig;
import io.meshegress.policy.HostPattern;
import io.meshegress.policy.Role;
import io.meshegress.policy.Principal;
import io.meshegress.policy.Workload;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import io.meshegress.proxy.UpstreamOutcome;
import io.meshegress.proxy.http.RequestTarget;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * "May this client go to HOST[:PORT], and how?" for every listener of a configuration, in the access log's own
 * words: the route table's verdict per listener (and the address rules for an address known without DNS).
 * {@code check} prints it and the admin listener's {@code /explain} serves it, so both always say what the proxy
 * would do.
 */
public final class RouteExplanation {
    private RouteExplanation() {
    }

    /** One listener's answer; {@code text} is the line {@code check} prints. */
    public record Route(String listener, String kind, String target, boolean reachable, boolean allowed,
                        String verdict, String text) {
    }

    /**
     * The role a client gets, and why.
     *
     * @param client   the address asked about, or null
     * @param workload the workload asked about ({@link WorkloadQuestion#display()}), or null
     * @param user     the Basic user asked about (a request with that user's good credential), or null
     */
    public record ClientRole(String client, String workload, String role, String reason, String mode, String user) {
        public ClientRole(String client, String workload, String role, String reason, String mode) {
            this(client, workload, role, reason, mode, null);
        }

        /** The line {@code check} prints. */
        public String text() {
            String as = workload != null ? "workload " + workload : user != null ? "user " + user : null;
            String who = client == null && as == null ? "any client (no --client)"
                    : client == null ? as
                    : as == null ? "client " + client : "client " + client + " as " + as;
            return who + ": role " + role + " (" + reason + "), mode " + mode;
        }
    }

    /**
     * The role of a request with the good credential of Basic user {@code user}, from {@code client} (null: any
     * address): the role its user entry selects, else the address's.
     */
    public static ClientRole role(RouteTable routes, InetAddress client, String user) {
        Principal p = new Principal.User(user);
        Role role = routes.role(p).orElse(routes.role(client));
        String reason = routes.roleReason(p).orElse("no workloads entry names user " + user + "; "
                + (client == null ? "the default role" : routes.roleReason(client)));
        return new ClientRole(client == null ? null : client.getHostAddress(), null, role.name(), reason,
                role.mode().word(), user);
    }

    public static ClientRole role(RouteTable routes, InetAddress client) {
        Role role = routes.role(client);
        return new ClientRole(client == null ? null : client.getHostAddress(), null, role.name(),
                client == null ? "no --client" : routes.roleReason(client), role.mode().word());
    }

    /** The role of a pod asked about: as {@code workload}, at {@code client} (null: any address). */
    public static ClientRole role(RouteTable routes, InetAddress client, WorkloadQuestion workload) {
        if (workload == null) {
            return role(routes, client);
        }
        Role role = routes.role(client, workload.workload());
        return new ClientRole(client == null ? null : client.getHostAddress(), workload.display(), role.name(),
                routes.roleReason(client, workload.workload()), role.mode().word());
    }

    /**
     * Why no request can be {@code user}'s (empty: it can): no identity.basic, or no such user in its file. The
     * answer is still the one such a credential would get, were it good.
     */
    public static Optional<String> userProblem(EgressConfig cfg, String user) {
        if (cfg.identity().basic() == null) {
            return Optional.of("no identity.basic: requests carry no user, and Proxy-Authorization is not read");
        }
        if (!cfg.identity().basic().users().containsKey(user)) {
            return Optional.of("user " + io.meshegress.text.Quote.shortly(user) + " is not in "
                    + cfg.identity().basic().file() + ": every request as this user is answered 407");
        }
        return Optional.empty();
    }

    /** For each listener, the route table's own verdict for {@code target} from {@code client} (null: any). */
    public static List<Route> routes(EgressConfig cfg, RouteTable routes, InetAddress client, Target t) {
        return routes(cfg, routes, client, null, t);
    }

    /** {@link #routes(EgressConfig, RouteTable, InetAddress, Target)} for a pod asked about (null: none). */
    public static List<Route> routes(EgressConfig cfg, RouteTable routes, InetAddress client,
                                     WorkloadQuestion workload, Target t) {
        return routes(cfg, routes, new Asked(client, workload == null ? null : workload.workload(), null), t);
    }

    private static List<Route> routes(EgressConfig cfg, RouteTable routes, Asked asked, Target t) {
        List<Route> out = new ArrayList<>();
        for (EgressConfig.SniListener s : cfg.sni()) {
            String listener = "sni " + s.listen();
            if (s.upstreamPortFromHeader()) {
                int port = t.port() == null ? 443 : t.port();
                out.add(decided(cfg, routes, asked, Destination.Kind.SNI, t, port, listener, "sni",
                        t.display(port) + " via " + listener + " (port " + port + " from the PROXY header): "));
                continue;
            }
            if (t.port() != null && t.port() != s.upstreamPort()) {
                String why = "not reachable (this listener always connects to port " + s.upstreamPort() + ")";
                out.add(new Route(listener, "sni", t.display(t.port()), false, false, why,
                        t.display(t.port()) + " via " + listener + ": " + why));
                continue;
            }
            out.add(decided(cfg, routes, asked, Destination.Kind.SNI, t, s.upstreamPort(), listener, "sni",
                    t.display(s.upstreamPort()) + " via " + listener + ": "));
        }
        if (cfg.http() != null) {
            String listener = "http " + cfg.http().listen();
            int plainPort = t.port() == null ? 80 : t.port();
            out.add(decided(cfg, routes, asked, Destination.Kind.HTTP, t, plainPort, listener, "http",
                    t.display(plainPort) + " via " + listener + " plain HTTP: "));
            int port = t.port() == null ? 443 : t.port();
            out.add(decided(cfg, routes, asked, Destination.Kind.CONNECT, t, port, listener, "connect",
                    t.display(port) + " via " + listener + " CONNECT: "));
        }
        return out;
    }

    /**
     * Who is asked about: an address (null: any), as a pod (null: whatever the route table knows of it) or as a
     * request with a credential's principal (null: none).
     */
    private record Asked(InetAddress client, Workload workload, Principal principal) {
    }

    /** {@link #routes(EgressConfig, RouteTable, InetAddress, Target)} for a request as Basic user {@code user}. */
    public static List<Route> routesAsUser(EgressConfig cfg, RouteTable routes, InetAddress client, String user,
                                           Target t) {
        return routes(cfg, routes, new Asked(client, null, new Principal.User(user)), t);
    }

    private static Route decided(EgressConfig cfg, RouteTable routes, Asked asked, Destination.Kind kind,
                                 Target t, int port, String listener, String kindWord, String prefix) {
        RouteTable.Verdict v = asked.principal() != null
                ? routes.decide(asked.client(), asked.principal(), kind, t.host(), port)
                : asked.workload() == null ? routes.decide(asked.client(), kind, t.host(), port)
                : routes.decide(asked.client(), asked.workload(), kind, t.host(), port);
        boolean allowed = v.allowed();
        String verdict = v.toString();
        // An address known without DNS (an IP literal, or resolver.hosts) meets the address rules here too.
        InetAddress known = HostPattern.isIpLiteral(t.host()) ? literal(t.host()) : cfg.resolver().hosts().get(t.host());
        if (allowed && known != null) {
            Optional<UpstreamOutcome.Refused> refused = routes.address(new InetSocketAddress(known, port));
            if (refused.isPresent()) {
                allowed = false;
                verdict = refused.get().reason();
            }
        }
        return new Route(listener, kindWord, t.display(port), true, allowed, verdict, prefix + verdict);
    }

    private static InetAddress literal(String host) {
        try {
            return InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("not an IP literal: " + host, e);
        }
    }

    /** What is asked about: a host and, if given, a port. */
    public record Target(String host, Integer port) {
        /** HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address, read as the proxy reads a CONNECT authority. */
        public static Optional<Target> parse(String text) {
            boolean withPort = text.startsWith("[") ? text.contains("]:")
                    : text.indexOf(':') > 0 && text.indexOf(':') == text.lastIndexOf(':');
            if (withPort) {
                try {
                    RequestTarget t = RequestTarget.parse(HttpMethod.CONNECT, text, null);
                    return Optional.of(new Target(t.host(), t.port()));
                } catch (RequestTarget.Invalid e) {
                    return Optional.empty();
                }
            }
            String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
            return HostPattern.normalizeHost(host).map(h -> new Target(h, null));
        }

        /** host:port, with an IPv6 literal in brackets ({@code [::1]:443}, never {@code ::1:443}). */
        public String display(int defaultPort) {
            int p = port == null ? defaultPort : port;
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + p;
        }
    }
}
