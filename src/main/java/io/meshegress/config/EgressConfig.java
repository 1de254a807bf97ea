package io.meshegress.config;

import io.meshegress.policy.AllowEntry;
import io.meshegress.policy.Cidr;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.HostPattern;
import io.meshegress.policy.PolicyMode;
import io.meshegress.transport.TransportChoice;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration: one immutable value. {@code http} and {@code admin} are null when turned off.
 * {@code source} names the file it came from and where each key stood in it, for messages.
 */
public record EgressConfig(
        ConfigSource source,
        HttpListener http,
        List<SniListener> sni,
        Resolver resolver,
        Timeouts timeouts,
        Policy policy,
        Limits limits,
        Admin admin,
        AccessLogConfig accessLog,
        Mesh mesh,
        TransportChoice transport,
        Identity identity) {

    public EgressConfig {
        sni = List.copyOf(sni);
    }

    /**
     * One listener of the config. The server binds them, the reloader diffs them, {@code check} describes them
     * and the manifests give them ports: all by iterating {@link #listeners()}.
     */
    public sealed interface Listener permits HttpListener, SniListener, Admin {
        ListenAddress listen();

        /** {@code http}, {@code sni} or {@code admin}, as logs and metrics name the kind. */
        String kind();
    }

    /** Every listener of this config: the SNI listeners in file order, then HTTP, then admin, when present. */
    public List<Listener> listeners() {
        List<Listener> out = new java.util.ArrayList<>(sni);
        if (http != null) {
            out.add(http);
        }
        if (admin != null) {
            out.add(admin);
        }
        return List.copyOf(out);
    }

    /** The policy this configuration describes: {@code policy.*} and the hosts and ports of {@code mesh.destinations}. */
    public EgressPolicy egressPolicy() {
        List<EgressPolicy.DestinationRule> rules = new java.util.ArrayList<>();
        for (Destination d : mesh.destinations()) {
            List<Integer> ports = new java.util.ArrayList<>(d.http());
            ports.addAll(d.tls());
            rules.add(new EgressPolicy.DestinationRule(d.hosts(), ports));
        }
        List<io.meshegress.policy.Role> roles = new java.util.ArrayList<>();
        for (int i = 0; i < policy.roles().size(); i++) {
            Role r = policy.roles().get(i);
            roles.add(io.meshegress.policy.Role.named(i, r.name(), r.clients(), r.workloads(), r.allow(), r.deny(),
                    r.mode(), r.connectPorts()));
        }
        return new EgressPolicy(policy.deny(), policy.denyNetworks(), policy.clients(),
                io.meshegress.policy.Role.byDefault(policy.allow(), rules, policy.mode()), roles);
    }

    /** The same config with another admin listener (what {@code run --admin-listen} does). */
    public EgressConfig withAdmin(Admin newAdmin) {
        return new EgressConfig(source, http, sni, resolver, timeouts, policy, limits, newAdmin, accessLog, mesh,
                transport, identity);
    }

    /**
     * The forward-proxy listener: CONNECT and plain HTTP. {@code xForwardedFor} (an extension, off by default)
     * adds the client's address to forwarded requests; egress usually must not leak pod addresses.
     */
    public record HttpListener(ListenAddress listen, List<Integer> connectPorts, boolean xForwardedFor,
                               ProxyProtocol proxyProtocol, ConnectSniCheck connectSniCheck, EchPolicy echPolicy,
                               MeshHeaders meshHeaders)
            implements Listener {
        public HttpListener {
            connectPorts = List.copyOf(connectPorts);
        }

        public HttpListener(ListenAddress listen, List<Integer> connectPorts, boolean xForwardedFor) {
            this(listen, connectPorts, xForwardedFor, ProxyProtocol.OFF, ConnectSniCheck.OFF, EchPolicy.ALLOW, MeshHeaders.DEFAULT);
        }

        @Override
        public String kind() {
            return "http";
        }
    }

    /**
     * (Extension) {@code http.connectSniCheck}: whether a CONNECT tunnel's ClientHello is read before its bytes go
     * on. {@code true} (MATCH): a server_name, when there is one, must be the CONNECT host; {@code require}: a
     * tunnel whose TLS carries no server_name is refused too. Non-TLS tunnels pass in both.
     */
    public enum ConnectSniCheck {
        OFF, MATCH, REQUIRE;

        public boolean on() {
            return this != OFF;
        }
    }

    /**
     * {@code http.forwardTraceHeaders} and {@code http.stripHeaders}: which request headers of the mesh stay
     * behind. The sidecar's own headers (pod metadata, client certificate) never leave; trace headers leave only
     * with {@code forwardTraceHeaders}; {@code stripHeaders} names more (lower case, validated).
     */
    public record MeshHeaders(boolean forwardTraceHeaders, List<String> stripHeaders) {
        public static final MeshHeaders DEFAULT = new MeshHeaders(false, List.of());

        public MeshHeaders {
            stripHeaders = List.copyOf(stripHeaders);
        }
    }

    /** (Extension) {@code http.echPolicy}: what a CONNECT tunnel does with an Encrypted Client Hello. */
    public enum EchPolicy { ALLOW, REFUSE }

    /**
     * (Extension) PROXY protocol on a listener: off, or required on every connection, from {@code trustedSources}
     * only (a header names the client, so only peers trusted to name it may send one).
     */
    public record ProxyProtocol(boolean required, List<Cidr> trustedSources) {
        public static final ProxyProtocol OFF = new ProxyProtocol(false, List.of());

        public ProxyProtocol {
            trustedSources = List.copyOf(trustedSources);
        }
    }

    /**
     * A TLS passthrough listener. {@code upstreamPort} is already resolved: the configured one, or the
     * listener's own port when the file omits it; with {@code upstreamPortFromHeader} (upstreamPort: header)
     * every connection's PROXY header gives it, and {@code upstreamPort} is 0.
     */
    public record SniListener(ListenAddress listen, int upstreamPort, boolean upstreamPortIsOwnPort,
                              boolean upstreamPortFromHeader, ProxyProtocol proxyProtocol) implements Listener {

        public SniListener(ListenAddress listen, int upstreamPort, boolean upstreamPortIsOwnPort) {
            this(listen, upstreamPort, upstreamPortIsOwnPort, false, ProxyProtocol.OFF);
        }

        @Override
        public String kind() {
            return "sni";
        }
    }

    /**
     * How names are resolved. An empty {@code servers} means the system's resolv.conf and /etc/hosts.
     * {@code queryTimeout}, {@code maxTtl} and {@code negativeTtl} extend the contract.
     */
    public record Resolver(List<InetSocketAddress> servers, boolean ipv6, Map<String, InetAddress> hosts,
                           Duration queryTimeout, Duration maxTtl, Duration negativeTtl) {
        public Resolver {
            servers = List.copyOf(servers);
            hosts = Map.copyOf(hosts);
        }
    }

    /**
     * {@code drain} (extension): how long in-flight requests and tunnels may finish after SIGTERM.
     * {@code response}: how long an upstream may take, after the whole request reached it, to send a response
     * head (then the client gets a 504 that names the upstream).
     */
    public record Timeouts(Duration connect, Duration handshake, Duration idle, Duration drain, Duration response) {
    }

    /**
     * (Extension) where access-log lines go ({@code stdout} or a file path) and how they look ({@code json} or
     * {@code text}). Read at start; a reload does not move the log.
     */
    public record AccessLogConfig(String destination, String format) {
    }

    /**
     * {@code policy}: the default role's allow-list and mode, the global rules (deny, denyNetworks, clients) and
     * the named roles in order.
     */
    public record Policy(List<AllowEntry> allow, List<HostPattern> deny, List<Cidr> denyNetworks, List<Cidr> clients,
                         PolicyMode mode, List<Role> roles) {
        public Policy {
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
            denyNetworks = List.copyOf(denyNetworks);
            clients = List.copyOf(clients);
            roles = List.copyOf(roles);
        }
    }

    /**
     * {@code policy.roles[i]}: the clients it serves and what they may reach.
     *
     * @param connectPorts narrower CONNECT ports than http.connectPorts, or null for those
     */
    public record Role(String name, List<Cidr> clients, List<io.meshegress.policy.WorkloadSelector> workloads,
                       List<AllowEntry> allow, List<HostPattern> deny, PolicyMode mode, List<Integer> connectPorts) {
        public Role {
            clients = List.copyOf(clients);
            workloads = List.copyOf(workloads);
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
            connectPorts = connectPorts == null ? null : List.copyOf(connectPorts);
        }
    }

    /**
     * {@code identity}: where client identities come from beside their addresses.
     *
     * @param kubernetes   the cluster's pods, or null: roles select by address only
     * @param basic        Basic credentials on the HTTP listener, or null
     * @param bearer       service-account tokens on the HTTP listener, or null
     * @param allowMissing where credentials are configured, whether a request with none from a client that no named
     *                     role holds by address or pod still gets the default role (else 407)
     */
    public record Identity(Kubernetes kubernetes, BasicUsers basic, BearerTokens bearer, boolean allowMissing) {
        public static final Identity NONE = new Identity(null);

        public Identity(Kubernetes kubernetes) {
            this(kubernetes, null, null, false);
        }

        /** Whether the HTTP listener reads Proxy-Authorization at all (never without identity.basic or bearer). */
        public boolean credentials() {
            return basic != null || bearer != null;
        }
    }

    /** What an address that is no pod of the cluster (and in no role's clients) gets. */
    public enum UnknownClient { DEFAULT, REFUSE }

    /**
     * {@code identity.kubernetes}: the watch of pods and namespaces that names clients by workload.
     *
     * @param kubeconfig a kubeconfig file, or "" for the pod's own service account (in the cluster)
     */
    public record Kubernetes(String kubeconfig, UnknownClient unknownClient) {
    }

    /** (Extension) how many client connections the listeners hold open at once, overall and per client address. */
    public record Limits(int connections, int connectionsPerClient) {
    }

    /**
     * The admin listener. (Extension) {@code idleTimeout} closes a connection that sent nothing for that long;
     * {@code maxConnections} caps how many are open at once (probes and scrapes need one or two each).
     * {@code pageClients} ({@code admin.pages.clients}) are the peers that may read the status page, /refusals and
     * /explain (every pod's client addresses and destinations); probes and /metrics answer every peer. By default
     * loopback peers only, which is where {@code kubectl port-forward} arrives from inside the pod.
     */
    public record Admin(ListenAddress listen, Duration idleTimeout, int maxConnections, List<Cidr> pageClients)
            implements Listener {
        public static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);
        public static final int DEFAULT_MAX_CONNECTIONS = 64;
        /** Loopback: IPv4's 127/8 and IPv6's ::1 (an IPv4-mapped ::ffff:127.x is 127/8, as Cidr compares it). */
        public static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));

        public Admin {
            pageClients = List.copyOf(pageClients);
        }

        /** At this address with the default bounds and page clients. */
        public Admin(ListenAddress listen) {
            this(listen, DEFAULT_IDLE, DEFAULT_MAX_CONNECTIONS, LOOPBACK);
        }

        /** The same settings at another address. */
        public Admin at(ListenAddress other) {
            return new Admin(other, idleTimeout, maxConnections, pageClients);
        }

        @Override
        public String kind() {
            return "admin";
        }
    }

    /**
     * What {@code istio} generates.
     *
     * @param exportTo            the namespaces that see the Istio objects; always written out (default {@code *})
     * @param enforce             mesh.enforce, or null: no NetworkPolicy or Sidecar is emitted
     * @param prometheusOperator  mesh.monitoring is prometheus-operator: also a ServiceMonitor and a PrometheusRule
     * @param scraperNamespaces   mesh.monitoring.namespaces: where the scrapers run, the only namespaces whose pods
     *                            the proxy's NetworkPolicy admits to the admin port
     * @param dataplane           how the mesh's workloads reach the proxy
     * @param istioVersion        the mesh's Istio (minor) version, for features that need a newer one
     * @param legacyEndpoints     also a v1 Endpoints beside the EndpointSlices of an outside proxy
     */
    public record Mesh(String namespace, Proxy proxy, List<String> exportTo, List<Destination> destinations,
                       Enforce enforce, boolean prometheusOperator, List<String> scraperNamespaces,
                       Dataplane dataplane, IstioVersion istioVersion, boolean legacyEndpoints) {
        public Mesh {
            exportTo = List.copyOf(exportTo);
            destinations = List.copyOf(destinations);
            scraperNamespaces = List.copyOf(scraperNamespaces);
        }
    }

    /** How workloads reach the proxy: their sidecars route to it, or (ambient) they name it as HTTP_PROXY. */
    public enum Dataplane { SIDECAR, AMBIENT }

    /** Which semantics the cluster's network policies have beyond the NetworkPolicy API. */
    public enum Cni {
        /** Only networking.k8s.io NetworkPolicy (Calico and most others: an ipBlock matches any address). */
        GENERIC,
        /** Cilium (and GKE Dataplane V2): ipBlock matches only outside the cluster; the host is an entity. */
        CILIUM
    }

    /** An Istio minor version ({@code 1.28}); a patch number in the file is accepted and ignored. */
    public record IstioVersion(int major, int minor) implements Comparable<IstioVersion> {
        @Override
        public int compareTo(IstioVersion o) {
            return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
        }

        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /**
     * mesh.enforce: the namespaces whose pods may leave the cluster only through the proxy.
     *
     * @param allowCidrs   addresses outside the pod network they may still reach directly (the API server's
     *                     endpoints, a database outside the cluster)
     * @param registryOnly also a Sidecar per namespace with outboundTrafficPolicy REGISTRY_ONLY
     * @param controlPlane the mesh's control plane, which sidecars reach for configuration and certificates
     * @param peers        further peers outside the pod network (a CA, a tracing collector) they may reach
     */
    public record Enforce(List<String> namespaces, List<Cidr> allowCidrs, Peer dns, boolean registryOnly, Cni cni,
                          Peer controlPlane, List<Peer> peers) {
        public Enforce {
            namespaces = List.copyOf(namespaces);
            allowCidrs = List.copyOf(allowCidrs);
            peers = List.copyOf(peers);
        }
    }

    /**
     * A peer the enforced namespaces may reach directly: pods (a namespace and labels) and/or addresses (host-
     * network pods, NodeLocal DNSCache, something outside the cluster), on these ports (empty: every port).
     * With no namespace, no pods.
     */
    public record Peer(String namespace, Map<String, String> podLabels, List<Cidr> addresses, List<Integer> ports) {
        public Peer {
            podLabels = Map.copyOf(podLabels);
            addresses = List.copyOf(addresses);
            ports = List.copyOf(ports);
        }

        public boolean hasPods() {
            return namespace != null;
        }
    }

    /**
     * Where the proxy runs. With {@code addresses}, outside the cluster at those IPs; without, as an in-cluster
     * Deployment of {@code image} (null when the file names none; in-cluster output then refuses).
     */
    public record Proxy(List<InetAddress> addresses, String image, int replicas, int maxReplicas,
                        String proxyProtocol) {
        /** {@code proxyProtocol}: the sidecars write no header. */
        public static final String OFF = "off";

        public Proxy {
            addresses = List.copyOf(addresses);
        }
    }

    /** What the mesh sends to the proxy: hosts with their plain-HTTP and TLS ports. */
    public record Destination(List<HostPattern> hosts, List<Integer> http, List<Integer> tls) {
        public Destination {
            hosts = List.copyOf(hosts);
            http = List.copyOf(http);
            tls = List.copyOf(tls);
        }
    }
}
