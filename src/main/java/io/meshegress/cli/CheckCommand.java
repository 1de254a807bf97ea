package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.Durations;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.HostPattern;
import io.meshegress.policy.Role;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.dns.EgressResolver;
import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import io.meshegress.transport.Transport;
import io.meshegress.proxy.UpstreamOutcome;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import io.meshegress.proxy.http.RequestTarget;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.Future;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate the file; for each HOST[:PORT] say which listener allows or refuses it, and why. "
                + "Names are resolved only with --resolve.")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    private ConfigOption config;

    @Parameters(paramLabel = "HOST[:PORT]", arity = "0..*", description = "destinations to explain")
    private List<String> destinations = new ArrayList<>();

    @Option(names = "--resolve", description = "also resolve each HOST with the configured resolver and check "
            + "its addresses against policy.denyNetworks")
    private boolean resolve;

    @Option(names = "--client", paramLabel = "IP", description = "explain for a client at this address "
            + "(policy.clients, and its role in policy.roles); default: any client, in the default role")
    private String client;

    @Option(names = "--namespace", paramLabel = "NS", description = "explain for a pod of this namespace across the "
            + "layers: the mesh's route, the NetworkPolicies mesh.enforce emits, the Sidecar, the proxy's rule")
    private String namespace;

    @Option(names = "--protocol", paramLabel = "TCP|UDP", defaultValue = "TCP",
            description = "with --namespace: the protocol (default: ${DEFAULT-VALUE})")
    private String protocol;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        EgressConfig cfg;
        try {
            cfg = config.load();
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        }
        PrintWriter out = spec.commandLine().getOut();
        List<ObjectNode> manifests;
        try {
            manifests = IstioCommand.manifests(cfg, config.text());
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        } catch (IstioCommand.InvalidManifestsException e) {
            e.problems.forEach(p -> spec.commandLine().getErr().println(config.name() + ": invalid manifest: " + p));
            return Main.CONFIG_ERROR;
        }
        out.println(config.name() + ": ok");
        describe(cfg, out);
        out.println("mesh: " + manifests.size() + " Kubernetes and Istio objects, valid against their schemas "
                + "(`istio` writes them)");
        RouteTable routes = new RouteTable(cfg);
        InetAddress clientAddress = null;
        if (client != null) {
            byte[] bytes = NetUtil.createByteArrayFromIpAddressString(client.strip());
            if (bytes == null) {
                spec.commandLine().getErr().println("mesh-egress: --client \"" + client + "\" is not an IP address");
                return Main.CONFIG_ERROR;
            }
            try {
                clientAddress = InetAddress.getByAddress(bytes);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        if (clientAddress != null || !cfg.policy().roles().isEmpty()) {
            Role role = routes.role(clientAddress);
            out.println((clientAddress == null ? "any client (no --client)" : "client " + clientAddress.getHostAddress())
                    + ": role " + role.name() + " (" + (clientAddress == null ? "no --client" : routes.roleReason(clientAddress))
                    + "), mode " + role.mode().word());
        }
        int status = Main.OK;
        MultiThreadIoEventLoopGroup loop = resolve ? Transport.select().newGroup(1) : null;
        EgressResolver resolver = resolve ? new EgressResolver(cfg.resolver(), Transport.select(),
                new io.meshegress.observe.ProxyMetrics()) : null;
        try {
            for (String d : destinations) {
                Optional<Target> target = Target.parse(d);
                if (target.isEmpty()) {
                    spec.commandLine().getErr().println("mesh-egress: \"" + d + "\" is not HOST or HOST:PORT");
                    status = Main.CONFIG_ERROR;
                    continue;
                }
                if (namespace != null) {
                    int port = target.get().port != null ? target.get().port : 443;
                    new NamespaceCheck(cfg, routes, manifests).explain(namespace, target.get().host, port,
                            protocol.toUpperCase(java.util.Locale.ROOT), out);
                    continue;
                }
                explain(cfg, routes, clientAddress, target.get(), out);
                if (resolver != null) {
                    explainAddresses(cfg, routes, resolver, loop.next(), target.get(), out);
                }
            }
        } finally {
            if (resolver != null) {
                loop.next().submit(resolver::close).awaitUninterruptibly();
                loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            }
        }
        out.flush();
        return status;
    }

    private static void describe(EgressConfig cfg, PrintWriter out) {
        out.println("listeners:");
        for (EgressConfig.Listener l : cfg.listeners()) {
            String how = "";
            if (l instanceof EgressConfig.HttpListener http) {
                how = " (CONNECT to ports " + http.connectPorts() + ")"
                        + (http.proxyProtocol().required() ? ", PROXY protocol required from "
                        + http.proxyProtocol().trustedSources() : "")
                        + (http.connectSniCheck() ? ", a tunnel's ClientHello must name its host" : "");
            } else if (l instanceof EgressConfig.SniListener s) {
                how = s.upstreamPortFromHeader() ? " -> the upstream port each PROXY header names (one listener for "
                        + "every TLS port)" : " -> upstream port " + s.upstreamPort()
                        + (s.upstreamPortIsOwnPort() ? " (its own port)" : "");
                if (s.proxyProtocol().required()) {
                    how += ", PROXY protocol required from " + s.proxyProtocol().trustedSources();
                }
            }
            out.println("  " + l.kind() + " " + l.listen() + how);
        }
        EgressConfig.Policy p = cfg.policy();
        out.println("policy:");
        List<String> allowed = new ArrayList<>();
        p.allow().forEach(h -> allowed.add(h + " (any port)"));
        cfg.mesh().destinations().forEach(d -> d.hosts().forEach(h -> {
            List<Integer> ports = new ArrayList<>(d.http());
            ports.addAll(d.tls());
            allowed.add(h + " (ports " + ports + ")");
        }));
        out.println("  allow: " + (allowed.isEmpty() ? "every host" : String.join(", ", allowed)));
        out.println("  deny: " + (p.deny().isEmpty() ? "none" : p.deny()));
        out.println("  denyNetworks: " + (p.denyNetworks().isEmpty() ? "none" : p.denyNetworks()));
        out.println("  clients: " + (p.clients().isEmpty() ? "any" : p.clients()));
        out.println("  mode: " + p.mode().word() + " (default role)");
        for (EgressConfig.Role r : p.roles()) {
            out.println("  role " + r.name() + ": clients " + shortList(r.clients()) + ", allow "
                    + (r.allow().isEmpty() ? "nothing" : shortList(r.allow()))
                    + (r.deny().isEmpty() ? "" : ", deny " + shortList(r.deny()))
                    + ", mode " + r.mode().word()
                    + (r.connectPorts() == null ? "" : ", CONNECT to ports " + r.connectPorts()));
        }
        out.println("limits: " + cfg.limits().connections() + " connections, " + cfg.limits().connectionsPerClient()
                + " per client");
        EgressConfig.Timeouts t = cfg.timeouts();
        out.println("timeouts: connect " + Durations.format(t.connect()) + ", handshake "
                + Durations.format(t.handshake()) + ", idle " + Durations.format(t.idle()));
        EgressConfig.Enforce enforce = cfg.mesh().enforce();
        if (enforce != null) {
            out.println("enforce: namespaces " + enforce.namespaces() + " leave only through the proxy (DNS, istiod"
                    + (enforce.allowCidrs().isEmpty() ? "" : " and " + enforce.allowCidrs()) + " besides)"
                    + (enforce.registryOnly() ? ", Sidecar REGISTRY_ONLY" : ""));
        }
        out.println("resolver: " + (cfg.resolver().servers().isEmpty() ? "system resolv.conf and /etc/hosts"
                : "servers " + cfg.resolver().servers().stream()
                        .map(a -> a.getAddress().getHostAddress() + ":" + a.getPort()).toList())
                + (cfg.resolver().ipv6() ? ", IPv4 and IPv6" : ", IPv4 only")
                + (cfg.resolver().hosts().isEmpty() ? "" : ", " + cfg.resolver().hosts().size() + " static hosts"));
    }

    /** A list as [a, b, c], or its first eight and how many more (a role may list hundreds of patterns). */
    private static String shortList(List<?> items) {
        if (items.size() <= 8) {
            return items.toString();
        }
        String first = items.subList(0, 8).toString();
        return first.substring(0, first.length() - 1) + ", ... " + (items.size() - 8) + " more]";
    }

    /**
     * For each listener, the route table's own verdict, printed in the access log's words: {@code allowed by RULE},
     * or the refusal reason as the proxy logs it. An IP literal also meets the address rules (no DNS needed).
     */
    private static void explain(EgressConfig cfg, RouteTable routes, InetAddress client, Target t, PrintWriter out) {
        for (EgressConfig.SniListener s : cfg.sni()) {
            if (s.upstreamPortFromHeader()) {
                int port = t.port == null ? 443 : t.port;
                out.println(t.display(port) + " via sni " + s.listen() + " (port " + port + " from the PROXY header): "
                        + verdict(cfg, routes, client, Destination.Kind.SNI, t.host, port));
                continue;
            }
            if (t.port != null && t.port != s.upstreamPort()) {
                out.println(t.display(t.port) + " via sni " + s.listen() + ": not reachable (this listener always "
                        + "connects to port " + s.upstreamPort() + ")");
                continue;
            }
            out.println(t.display(s.upstreamPort()) + " via sni " + s.listen() + ": "
                    + verdict(cfg, routes, client, Destination.Kind.SNI, t.host, s.upstreamPort()));
        }
        if (cfg.http() != null) {
            int plainPort = t.port == null ? 80 : t.port;
            out.println(t.display(plainPort) + " via http " + cfg.http().listen() + " plain HTTP: "
                    + verdict(cfg, routes, client, Destination.Kind.HTTP, t.host, plainPort));
            int port = t.port == null ? 443 : t.port;
            out.println(t.display(port) + " via http " + cfg.http().listen() + " CONNECT: "
                    + verdict(cfg, routes, client, Destination.Kind.CONNECT, t.host, port));
        }
    }

    private static String verdict(EgressConfig cfg, RouteTable routes, InetAddress client, Destination.Kind kind,
                                  String host, int port) {
        RouteTable.Verdict v = routes.decide(client, kind, host, port);
        // An address known without DNS (an IP literal, or resolver.hosts) meets the address rules here too.
        InetAddress known = HostPattern.isIpLiteral(host) ? literal(host) : cfg.resolver().hosts().get(host);
        if (v.allowed() && known != null) {
            Optional<UpstreamOutcome.Refused> refused = routes.address(new InetSocketAddress(known, port));
            if (refused.isPresent()) {
                return refused.get().reason();
            }
        }
        return v.toString();
    }

    private static InetAddress literal(String host) {
        try {
            return InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("not an IP literal: " + host, e);
        }
    }

    /** With --resolve: what the name resolves to, and which of those addresses the route table lets through. */
    private static void explainAddresses(EgressConfig cfg, RouteTable routes, EgressResolver resolver,
                                         EventLoop loop, Target t, PrintWriter out) {
        Future<List<InetAddress>> f = resolver.resolve(t.host, loop);
        long waitMs = cfg.resolver().queryTimeout().toMillis() * 2 + 1000;
        if (!f.awaitUninterruptibly(waitMs) || !f.isSuccess()) {
            out.println(t.host + " resolves to nothing: " + (f.cause() != null ? f.cause().getMessage() : "no answer"));
            return;
        }
        int port = t.port == null ? 443 : t.port;
        List<String> parts = new ArrayList<>();
        for (InetAddress a : f.getNow()) {
            Optional<UpstreamOutcome.Refused> refused = routes.address(new InetSocketAddress(a, port));
            String address = NetUtil.toAddressString(a);
            // The log's reason starts with the address; here the address is already said.
            parts.add(address + " (" + refused.map(r -> r.reason().startsWith(address + " ")
                    ? r.reason().substring(address.length() + 1) : r.reason()).orElse("allowed") + ")");
        }
        out.println(t.host + " resolves to " + String.join(", ", parts));
    }

    private record Target(String host, Integer port) {
        /** HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address, read as the proxy reads a CONNECT authority. */
        static Optional<Target> parse(String text) {
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
        String display(int defaultPort) {
            int p = port == null ? defaultPort : port;
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + p;
        }
    }
}
