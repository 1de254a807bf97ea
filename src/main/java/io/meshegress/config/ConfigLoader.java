package io.meshegress.config;

import io.meshegress.transport.TransportChoice;

import io.meshegress.text.Quote;
import io.meshegress.policy.Cidr;
import io.meshegress.policy.HostPattern;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns YAML text into an {@link EgressConfig}, or into the one-line error the contract asks for.
 * Every key is optional; an omitted key takes its default, an unknown key is an error.
 */
public final class ConfigLoader extends YamlValueReader {
    public static final String EMBEDDED_DEFAULT = "<embedded default>";
    private static final String DEFAULT_RESOURCE = "/io/meshegress/config/default.yaml";

    /**
     * Every range of the IANA IPv4 and IPv6 special-purpose address registries that is not globally reachable,
     * plus multicast; docs/security.md lists each with the reason. Addresses that carry an IPv4 address are also
     * judged as that address (see EmbeddedIpv4).
     */
    public static final List<String> DEFAULT_DENY_NETWORKS = List.of("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10",
            "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
            "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23",
            "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8");

    /**
     * Who may use the proxy when policy.clients is not written: the private and local ranges (RFC 1918, RFC 6598's
     * shared space, loopback, RFC 4193 unique-local and link-local IPv6), as Squid's localnet, so that a proxy on an
     * internet-facing host is no open relay. {@code ::1/128} is 127.0.0.0/8's IPv6 twin.
     */
    public static final List<String> DEFAULT_CLIENTS = List.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
            "100.64.0.0/10", "127.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10");

    private ConfigLoader(String file) {
        super(file);
    }

    /** The configuration the proxy runs on when no file is given. */
    public static EgressConfig embeddedDefault() {
        try {
            return parse(EMBEDDED_DEFAULT, embeddedDefaultText());
        } catch (ConfigException e) {
            throw new IllegalStateException("embedded default configuration is broken: " + e.getMessage(), e);
        }
    }

    /** The embedded default file's text, comments and all. */
    public static String embeddedDefaultText() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("embedded default configuration missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("embedded default configuration unreadable: " + e.getMessage(), e);
        }
    }

    /** Reads (see {@link ConfigFile}: a regular file, size-capped, UTF-8, not empty) and parses a file. */
    public static EgressConfig load(Path path) throws ConfigException {
        return parse(path.toString(), ConfigFile.read(path));
    }

    public static EgressConfig parse(String file, String text) throws ConfigException {
        return new ConfigLoader(file).bind(new YamlTreeReader(file).read(text));
    }

    private EgressConfig bind(YamlNode rootNode) throws ConfigException {
        Fields root = fields(rootNode, ConfigSection.ROOT);
        EgressConfig.HttpListener http = httpListener(root);
        List<EgressConfig.SniListener> sni = sniListeners(root);
        EgressConfig.Resolver resolver = resolver(root.mappingOrEmpty("resolver"));
        EgressConfig.Timeouts timeouts = timeouts(root.mappingOrEmpty("timeouts"));
        EgressConfig.Identity identity = identity(root.mappingOrEmpty("identity"));
        EgressConfig.Policy policy = new PolicyReader(file, http == null ? List.of() : http.connectPorts(),
                identity).policy(root.mappingOrEmpty("policy"));
        EgressConfig.Limits limits = limits(root.mappingOrEmpty("limits"));
        EgressConfig.Admin admin = admin(root);
        EgressConfig.AccessLogConfig accessLog = accessLog(root.mappingOrEmpty("accessLog"));
        EgressConfig.Mesh mesh = new MeshReader(file).mesh(root.mappingOrEmpty("mesh"));
        if (http == null && sni.isEmpty()) {
            // A file gets the listeners it declares; one with none would start a proxy that serves nobody. Asked
            // last, so that a mistake in a section is reported where it is first.
            throw at(rootNode, "no listener: declare http (e.g. http: {listen: \"127.0.0.1:8080\"}) or sni (e.g. "
                    + "sni: [{listen: \"127.0.0.1:8443\", upstreamPort: 443}]); only the embedded default (no -c) "
                    + "has listeners it does not write");
        }
        Map<String, YamlNode.Position> positions = new java.util.HashMap<>();
        collectPositions(rootNode, positions);
        TransportChoice transport = !root.has("transport") ? TransportChoice.AUTO
                : TransportChoice.named(word(root.get("transport"), "auto", "io_uring", "epoll", "nio")).orElseThrow();
        return new EgressConfig(new ConfigSource(file, positions), http, sni, resolver, timeouts, policy, limits, admin,
                accessLog, mesh, transport, identity);
    }

    /**
     * {@code identity}: absent, or {@code kubernetes: {}} for the in-cluster watch with its defaults; {@code basic}
     * (an htpasswd file, read now) and {@code bearer} (tokens checked through the watch's client) for credentials.
     */
    private EgressConfig.Identity identity(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.IDENTITY);
        EgressConfig.Kubernetes kubernetes = null;
        if (f.has("kubernetes")) {
            Fields k = fields(f.mappingOrEmpty("kubernetes"), ConfigSection.IDENTITY_KUBERNETES);
            String kubeconfig = k.has("kubeconfig") ? string(k.get("kubeconfig")) : "";
            EgressConfig.UnknownClient unknown = !k.has("unknownClient") ? EgressConfig.UnknownClient.DEFAULT
                    : EgressConfig.UnknownClient.valueOf(word(k.get("unknownClient"), "default", "refuse")
                            .toUpperCase(java.util.Locale.ROOT));
            kubernetes = new EgressConfig.Kubernetes(kubeconfig, unknown);
        }
        BasicUsers basic = null;
        if (f.has("basic")) {
            Fields b = fields(f.get("basic"), ConfigSection.IDENTITY_BASIC);
            if (!b.has("file")) {
                throw at(f.get("basic"), "identity.basic needs file (an htpasswd file of bcrypt lines, made with "
                        + "htpasswd -B)");
            }
            String written = string(b.get("file"));
            if (written.isBlank()) {
                throw at(b.get("file"), "an htpasswd file path");
            }
            Path path = relativeToConfig(Path.of(written));
            basic = new BasicUsers(path, HtpasswdFile.read(path));
        }
        BearerTokens bearer = null;
        if (f.has("bearer")) {
            Fields b = fields(f.mappingOrEmpty("bearer"), ConfigSection.IDENTITY_BEARER);
            if (kubernetes == null) {
                throw at(f.get("bearer"), "identity.bearer checks tokens with the API server's TokenReview: it needs "
                        + "identity.kubernetes (kubernetes: {} in the cluster, or {kubeconfig: FILE} outside it)");
            }
            String audience = b.has("audience") ? string(b.get("audience")) : BearerTokens.DEFAULT_AUDIENCE;
            if (audience.isBlank()) {
                throw at(b.get("audience"), "an audience (e.g. mesh-egress, as the pod's projected token names it)");
            }
            bearer = new BearerTokens(audience);
        }
        boolean allowMissing = false;
        if (f.has("allowMissing")) {
            if (basic == null && bearer == null) {
                throw at(f.get("allowMissing"), "allowMissing is about requests without credentials: it needs "
                        + "identity.basic or identity.bearer");
            }
            allowMissing = bool(f.get("allowMissing"));
        }
        return new EgressConfig.Identity(kubernetes, basic, bearer, allowMissing);
    }

    /** A relative path from the file is relative to the file's directory (a unit's working directory is /). */
    private Path relativeToConfig(Path written) {
        if (written.isAbsolute() || file.equals(EMBEDDED_DEFAULT)) {
            return written;
        }
        Path dir = Path.of(file).toAbsolutePath().getParent();
        return dir == null ? written : dir.resolve(written).normalize();
    }

    private static void collectPositions(YamlNode node, Map<String, YamlNode.Position> out) {
        out.put(node.path(), node.position());
        if (node instanceof YamlNode.Mapping) {
            for (YamlNode.Entry e : ((YamlNode.Mapping) node).entries().values()) {
                collectPositions(e.value(), out);
            }
        } else if (node instanceof YamlNode.Sequence) {
            for (YamlNode item : ((YamlNode.Sequence) node).items()) {
                collectPositions(item, out);
            }
        }
    }

    // ---- listeners -------------------------------------------------------------------------

    /** Every bound address so far, to refuse two listeners on one socket. */
    private final Map<String, ListenAddress> bound = new LinkedHashMap<>();

    private ListenAddress listen(YamlNode node) throws ConfigException {
        ListenAddress address = parseScalar(node, ListenAddress::parse);
        for (Map.Entry<String, ListenAddress> e : bound.entrySet()) {
            if (e.getValue().overlaps(address)) {
                throw at(node, address + " is already used by " + e.getKey() + " (" + e.getValue() + ")");
            }
        }
        bound.put(node.path(), address);
        return address;
    }

    private EgressConfig.HttpListener httpListener(Fields root) throws ConfigException {
        if (!root.has("http")) {
            return null; // absent or null: a file gets only the listeners it declares
        }
        Fields f = fields(root.get("http"), ConfigSection.HTTP);
        ListenAddress listen = f.has("listen") ? listen(f.get("listen")) : defaultListen(f, "0.0.0.0:8080");
        List<Integer> connectPorts = f.has("connectPorts") ? list(f.get("connectPorts"), this::port) : List.of(443, 563);
        boolean xff = f.has("xForwardedFor") && bool(f.get("xForwardedFor"));
        EgressConfig.ConnectSniCheck sniCheck = EgressConfig.ConnectSniCheck.OFF;
        if (f.has("connectSniCheck")) {
            String v = string(f.get("connectSniCheck"));
            sniCheck = switch (v) {
                case "false" -> EgressConfig.ConnectSniCheck.OFF;
                case "true" -> EgressConfig.ConnectSniCheck.MATCH;
                case "require" -> EgressConfig.ConnectSniCheck.REQUIRE;
                default -> throw at(f.get("connectSniCheck"), Quote.shortly(v) + " is not true, false or require "
                        + "(require: a tunnel whose TLS names no server is refused too)");
            };
        }
        EgressConfig.EchPolicy ech = EgressConfig.EchPolicy.ALLOW;
        if (f.has("echPolicy")) {
            String v = string(f.get("echPolicy"));
            ech = switch (v) {
                case "allow" -> EgressConfig.EchPolicy.ALLOW;
                case "refuse" -> EgressConfig.EchPolicy.REFUSE;
                default -> throw at(f.get("echPolicy"), Quote.shortly(v) + " is not allow or refuse");
            };
        }
        EgressConfig.MeshHeaders meshHeaders = new EgressConfig.MeshHeaders(
                f.has("forwardTraceHeaders") && bool(f.get("forwardTraceHeaders")),
                f.has("stripHeaders") ? list(f.get("stripHeaders"), n -> parseScalar(n, HeaderName::parse))
                        : List.of());
        return new EgressConfig.HttpListener(listen, connectPorts, xff, proxyProtocol(f), sniCheck, ech, meshHeaders);
    }

    /** proxyProtocol (off | required) and trustedSources of a listener; required needs trusted sources. */
    private EgressConfig.ProxyProtocol proxyProtocol(Fields f) throws ConfigException {
        boolean required = false;
        if (f.has("proxyProtocol")) {
            String v = string(f.get("proxyProtocol"));
            required = switch (v) {
                case "off" -> false;
                case "required" -> true;
                default -> throw at(f.get("proxyProtocol"), Quote.shortly(v) + " is not off or required (the PROXY "
                        + "protocol forbids guessing whether a header is there, so there is no optional)");
            };
        }
        List<Cidr> trusted = f.has("trustedSources") ? list(f.get("trustedSources"), this::cidr) : List.of();
        if (required && trusted.isEmpty()) {
            throw at(f.has("trustedSources") ? f.get("trustedSources") : f.get("proxyProtocol"), "proxyProtocol: "
                    + "required needs trustedSources (the peers that may name the client; a header from anyone "
                    + "else is refused)");
        }
        if (!required && !trusted.isEmpty()) {
            throw at(f.get("trustedSources"), "trustedSources needs proxyProtocol: required");
        }
        return required ? new EgressConfig.ProxyProtocol(true, trusted) : EgressConfig.ProxyProtocol.OFF;
    }

    private ListenAddress defaultListen(Fields f, String text) throws ConfigException {
        ListenAddress address = ListenAddress.parse(text);
        String path = f.path().isEmpty() ? "listen" : f.path() + ".listen";
        for (Map.Entry<String, ListenAddress> e : bound.entrySet()) {
            if (e.getValue().overlaps(address)) {
                throw at(f.node(), "the default " + path + " " + address + " collides with " + e.getKey()
                        + " (" + e.getValue() + "); set " + path + " explicitly");
            }
        }
        bound.put(path, address);
        return address;
    }

    private List<EgressConfig.SniListener> sniListeners(Fields root) throws ConfigException {
        if (!root.has("sni")) {
            return List.of(); // absent or null: no SNI listener unless the file declares one
        }
        return list(root.get("sni"), node -> {
            Fields f = fields(node, ConfigSection.SNI_LISTENER);
            if (!f.has("listen")) {
                throw at(node, "listen is required for an sni listener (e.g. listen: \"0.0.0.0:8443\")");
            }
            ListenAddress listen = listen(f.get("listen"));
            EgressConfig.ProxyProtocol proxyProtocol = proxyProtocol(f);
            if (f.has("upstreamPort") && "header".equals(f.get("upstreamPort") instanceof YamlNode.Scalar s ? s.text() : null)) {
                if (!proxyProtocol.required()) {
                    throw at(f.get("upstreamPort"), "header needs proxyProtocol: required (the port comes from the "
                            + "PROXY protocol header)");
                }
                return new EgressConfig.SniListener(listen, 0, false, true, proxyProtocol);
            }
            if (f.has("upstreamPort")) {
                int upstream = port(f.get("upstreamPort"));
                return new EgressConfig.SniListener(listen, upstream, upstream == listen.port(), false, proxyProtocol);
            }
            return new EgressConfig.SniListener(listen, listen.port(), true, false, proxyProtocol);
        });
    }

    private EgressConfig.Admin admin(Fields root) throws ConfigException {
        if (root.isExplicitNull("admin")) {
            return null;
        }
        Fields f = fields(root.mappingOrEmpty("admin"), ConfigSection.ADMIN);
        List<Cidr> pageClients = EgressConfig.Admin.LOOPBACK;
        if (f.has("pages")) {
            Fields pages = fields(f.get("pages"), ConfigSection.ADMIN_PAGES);
            if (pages.has("clients")) {
                pageClients = list(pages.get("clients"), this::cidr);
            }
        }
        return new EgressConfig.Admin(f.has("listen") ? listen(f.get("listen")) : defaultListen(f, "127.0.0.1:9901"),
                f.has("idleTimeout") ? positiveDuration(f.get("idleTimeout")) : EgressConfig.Admin.DEFAULT_IDLE,
                f.has("maxConnections") ? positiveInt(f.get("maxConnections"))
                        : EgressConfig.Admin.DEFAULT_MAX_CONNECTIONS, pageClients);
    }

    // ---- resolver, timeouts ----------------------------------------------------------------

    private EgressConfig.Resolver resolver(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.RESOLVER);
        List<InetSocketAddress> servers = f.has("servers")
                ? list(f.get("servers"), n -> parseScalar(n, s -> ListenAddress.parse(s, 53)).socketAddress())
                : List.of();
        boolean ipv6 = f.has("ipv6") && bool(f.get("ipv6"));
        Map<String, InetAddress> hosts = new LinkedHashMap<>();
        if (f.has("hosts")) {
            YamlNode.Mapping m = mapping(f.get("hosts"));
            for (YamlNode.Entry e : m.entries().values()) {
                String name = HostPattern.normalizeHost(e.key())
                        .filter(n -> !n.contains(":") && !NetUtil.isValidIpV4Address(n))
                        .orElseThrow(() -> new ConfigException(file, e.keyPosition().line(), e.keyPosition().column(),
                                m.path() + "." + e.key(), Quote.shortly(e.key()) + " is not a host name"));
                hosts.put(name, parseScalar(e.value(), ConfigLoader::ipAddress));
            }
        }
        Duration queryTimeout = f.has("queryTimeout") ? positiveDuration(f.get("queryTimeout")) : Duration.ofSeconds(5);
        Duration maxTtl = f.has("maxTtl") ? positiveDuration(f.get("maxTtl")) : Duration.ofMinutes(5);
        Duration negativeTtl = f.has("negativeTtl") ? duration(f.get("negativeTtl")) : Duration.ofSeconds(10);
        return new EgressConfig.Resolver(servers, ipv6, hosts, queryTimeout, maxTtl, negativeTtl);
    }

    private EgressConfig.Timeouts timeouts(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.TIMEOUTS);
        return new EgressConfig.Timeouts(
                f.has("connect") ? positiveDuration(f.get("connect")) : Duration.ofSeconds(10),
                f.has("handshake") ? positiveDuration(f.get("handshake")) : Duration.ofSeconds(10),
                f.has("idle") ? positiveDuration(f.get("idle")) : Duration.ofMinutes(10),
                f.has("drain") ? duration(f.get("drain")) : Duration.ofSeconds(30),
                f.has("response") ? positiveDuration(f.get("response")) : Duration.ofSeconds(60));
    }

    // ---- policy, mesh ----------------------------------------------------------------------

    private EgressConfig.AccessLogConfig accessLog(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.ACCESS_LOG);
        String destination = f.has("destination") ? string(f.get("destination")) : "stdout";
        if (destination.isBlank()) {
            throw at(f.get("destination"), "must be stdout or a file path");
        }
        String format = "json";
        if (f.has("format")) {
            format = string(f.get("format"));
            if (!format.equals("json") && !format.equals("text")) {
                throw at(f.get("format"), Quote.shortly(format) + " is not json or text");
            }
        }
        return new EgressConfig.AccessLogConfig(destination, format);
    }

    private EgressConfig.Limits limits(YamlNode node) throws ConfigException {
        Fields f = fields(node, ConfigSection.LIMITS);
        int connections = f.has("connections") ? positiveInt(f.get("connections")) : 16_384;
        int perClient = f.has("connectionsPerClient") ? positiveInt(f.get("connectionsPerClient")) : 1_024;
        return new EgressConfig.Limits(connections, perClient);
    }
}
