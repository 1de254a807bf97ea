package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigWarnings;
import io.meshegress.config.Durations;
import io.meshegress.config.EgressConfig;
import io.meshegress.mesh.ManifestGenerator;
import io.meshegress.policy.Role;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.dns.EgressResolver;
import io.meshegress.observe.AccessLogFile;
import io.meshegress.explain.RouteExplanation;
import io.meshegress.explain.RouteExplanation.Target;
import io.meshegress.explain.WorkloadQuestion;
import io.meshegress.text.Quote;
import io.meshegress.proxy.RouteTable;
import io.meshegress.transport.Transport;
import io.meshegress.proxy.UpstreamOutcome;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
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

    // The label has no brackets: asciidoctor reads "[...]" before the man page's closing "_" as an attribute list.
    @Option(names = "--workload", paramLabel = "NS/SA", description = "explain for a pod of namespace NS running as "
            + "service account SA (NS/SA?KEY=VALUE,... with its pod labels): the role its policy.roles[].workloads "
            + "entries give it, then that role's verdict (with --client: the pod at that address). Offline: no "
            + "cluster is asked. Not --namespace, which checks the mesh's enforcement across the cluster")
    private String workload;

    @Option(names = "--user", paramLabel = "NAME", description = "explain for a request with the good credential of "
            + "this identity.basic user: the role its policy.roles[].workloads user entry gives it (else the role of "
            + "--client), then that role's verdict")
    private String user;

    @Option(names = "--namespace-labels", paramLabel = "KEY=VALUE,...", description = "with --workload: the labels "
            + "of its namespace, for namespaceSelector entries; " + WorkloadQuestion.NAME_LABEL + "=NS is always "
            + "assumed, as Kubernetes sets it on every namespace")
    private String namespaceLabels;

    @Option(names = "--namespace", paramLabel = "NS", description = "explain for a pod of this namespace across the "
            + "layers: the mesh's route, the NetworkPolicies mesh.enforce emits, the Sidecar, the proxy's rule for "
            + "the default role (the role a workload gets: --workload)")
    private String namespace;

    @Option(names = "--protocol", paramLabel = "TCP|UDP", defaultValue = "TCP",
            description = "with --namespace: the protocol (default: ${DEFAULT-VALUE})")
    private String protocol;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (workload != null && namespace != null) {
            spec.commandLine().getErr().println("mesh-egress: --workload and --namespace ask different questions "
                    + "(the proxy's role for a pod; the mesh's layers for a namespace): give one");
            return Main.CONFIG_ERROR;
        }
        if (user != null && (workload != null || namespace != null)) {
            spec.commandLine().getErr().println("mesh-egress: --user asks for a request with that user's credential; "
                    + "--workload and --namespace ask for pods: give one");
            return Main.CONFIG_ERROR;
        }
        if (user != null && io.meshegress.config.HtpasswdFile.userProblem(user) != null) {
            spec.commandLine().getErr().println("mesh-egress: --user: "
                    + io.meshegress.config.HtpasswdFile.userProblem(user));
            return Main.CONFIG_ERROR;
        }
        if (namespaceLabels != null && workload == null) {
            spec.commandLine().getErr().println("mesh-egress: --namespace-labels describes the namespace of "
                    + "--workload: give --workload too");
            return Main.CONFIG_ERROR;
        }
        WorkloadQuestion asked = null;
        if (workload != null) {
            WorkloadQuestion.Parsed parsed = WorkloadQuestion.parse(workload, namespaceLabels);
            if (parsed instanceof WorkloadQuestion.Invalid invalid) {
                spec.commandLine().getErr().println("mesh-egress: --workload " + Quote.shortly(workload)
                        + (namespaceLabels == null ? "" : " --namespace-labels " + Quote.shortly(namespaceLabels))
                        + ": " + invalid.reason() + " (expected " + WorkloadQuestion.SYNTAX + ")");
                return Main.CONFIG_ERROR;
            }
            asked = ((WorkloadQuestion.Valid) parsed).question();
        }
        EgressConfig cfg;
        try {
            cfg = config.load();
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        }
        if (!cfg.accessLog().destination().equals("stdout")) {
            // As ExecStartPre, check runs as the service's user: a log it cannot append to would stop run.
            try {
                AccessLogFile.checkAppendable(java.nio.file.Path.of(cfg.accessLog().destination()));
            } catch (AccessLogFile.CannotOpen e) {
                spec.commandLine().getErr().println("mesh-egress: " + e.getMessage());
                return Main.RUNTIME_FAILURE;
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        List<ObjectNode> manifests;
        try {
            manifests = IstioCommand.manifests(cfg, config.text(), ManifestGenerator.Use.DESCRIBE);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        } catch (IstioCommand.InvalidManifestsException e) {
            e.problems.forEach(p -> spec.commandLine().getErr().println(config.name() + ": invalid manifest: " + p));
            return Main.CONFIG_ERROR;
        }
        out.println(config.name() + ": ok");
        ConfigWarnings.of(cfg).forEach(spec.commandLine().getErr()::println);
        describe(cfg, out);
        out.println("mesh: " + manifests.size() + " Kubernetes and Istio objects, valid against their schemas "
                + "(`istio` writes them)");
        ManifestGenerator.inClusterProblem(cfg).filter(e -> cfg.source().positions().containsKey("mesh")).ifPresent(e -> out.println("warning: `istio` refuses this file for "
                + "an in-cluster proxy: " + e.getMessage()));
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
        if (asked != null) {
            out.println(asked.assumption("--namespace-labels"));
        }
        if (user != null) {
            Optional<String> unusable = RouteExplanation.userProblem(cfg, user);
            if (unusable.isPresent()) {
                out.println("warning: " + unusable.get());
            }
            out.println(RouteExplanation.role(routes, clientAddress, user).text());
        } else if (clientAddress != null || asked != null || !cfg.policy().roles().isEmpty()) {
            out.println(RouteExplanation.role(routes, clientAddress, asked).text());
        }
        int status = Main.OK;
        Transport transport = resolve ? Transport.select(cfg.transport()) : null;
        MultiThreadIoEventLoopGroup loop = resolve ? transport.newGroup(1) : null;
        EgressResolver resolver = resolve ? new EgressResolver(cfg.resolver(), transport,
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
                    int port = target.get().port() != null ? target.get().port() : 443;
                    new NamespaceCheck(cfg, routes, manifests).explain(namespace, target.get().host(), port,
                            protocol.toUpperCase(java.util.Locale.ROOT), out);
                    continue;
                }
                (user != null ? RouteExplanation.routesAsUser(cfg, routes, clientAddress, user, target.get())
                        : RouteExplanation.routes(cfg, routes, clientAddress, asked, target.get()))
                        .forEach(r -> out.println(r.text()));
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
                        + switch (http.connectSniCheck()) {
                            case OFF -> "";
                            case MATCH -> ", a tunnel's ClientHello must name its host when it names one";
                            case REQUIRE -> ", a tunnel's TLS must name its host (a ClientHello without server_name "
                                    + "is refused)";
                        }
                        + (http.meshHeaders().forwardTraceHeaders() ? ", trace headers forwarded" : "")
                        + (http.meshHeaders().stripHeaders().isEmpty() ? ""
                        : ", also strips " + http.meshHeaders().stripHeaders());
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
        p.allow().forEach(e -> allowed.add(e.host() + e.ports().map(ports -> " (ports " + ports + ")")
                .orElse(" (any port)")));
        cfg.mesh().destinations().forEach(d -> d.hosts().forEach(h -> {
            List<Integer> ports = new ArrayList<>(d.http());
            ports.addAll(d.tls());
            allowed.add(h + " (ports " + ports + ")");
        }));
        out.println("  allow: " + (allowed.isEmpty() ? "nothing" : String.join(", ", allowed)));
        out.println("  deny: " + (p.deny().isEmpty() ? "none" : p.deny()));
        out.println("  denyNetworks: " + (p.denyNetworks().isEmpty() ? "none" : p.denyNetworks()));
        out.println("  clients: " + p.clients() + (cfg.source().positions().containsKey("policy.clients") ? ""
                : " (not written: the private and local ranges)"));
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
            out.println("enforce: namespaces " + enforce.namespaces() + " leave the cluster only through the proxy "
                    + "(DNS, " + (cfg.mesh().dataplane() == EgressConfig.Dataplane.SIDECAR ? "the control plane, " : "")
                    + "the cluster's pods" + (enforce.allowCidrs().isEmpty() ? "" : ", " + enforce.allowCidrs())
                    + (enforce.peers().isEmpty() ? "" : ", " + enforce.peers().size() + " peers") + " besides)"
                    + (enforce.registryOnly() && cfg.mesh().dataplane() == EgressConfig.Dataplane.SIDECAR
                    ? ", Sidecar REGISTRY_ONLY" : "") + ", as " + (enforce.cni() == EgressConfig.Cni.CILIUM
                    ? "CiliumNetworkPolicies" : "NetworkPolicies"));
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

    /** With --resolve: what the name resolves to, and which of those addresses the route table lets through. */
    private static void explainAddresses(EgressConfig cfg, RouteTable routes, EgressResolver resolver,
                                         EventLoop loop, Target t, PrintWriter out) {
        Future<List<InetAddress>> f = resolver.resolve(t.host(), loop);
        long waitMs = cfg.resolver().queryTimeout().toMillis() * 2 + 1000;
        if (!f.awaitUninterruptibly(waitMs) || !f.isSuccess()) {
            out.println(t.host() + " resolves to nothing: " + (f.cause() != null ? f.cause().getMessage() : "no answer"));
            return;
        }
        int port = t.port() == null ? 443 : t.port();
        List<String> parts = new ArrayList<>();
        for (InetAddress a : f.getNow()) {
            Optional<UpstreamOutcome.Refused> refused = routes.address(new InetSocketAddress(a, port));
            String address = NetUtil.toAddressString(a);
            // The log's reason starts with the address; here the address is already said.
            parts.add(address + " (" + refused.map(r -> r.reason().startsWith(address + " ")
                    ? r.reason().substring(address.length() + 1) : r.reason()).orElse("allowed") + ")");
        }
        out.println(t.host() + " resolves to " + String.join(", ", parts));
    }
}
