package io.meshegress.config;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Every mapping of egress.yaml and the keys it may hold: the loader accepts exactly these (an unknown key is an
 * error with a suggestion), and the documentation and the JSON Schema are checked against {@link #keyPaths()}.
 * So a new key is added here, read in the loader, and described in docs/configuration.md and
 * docs/egress.schema.json, or a test says which is missing.
 */
public enum ConfigSection {
    ROOT("", "http", "sni", "resolver", "timeouts", "policy", "limits", "admin", "accessLog", "mesh",
            "transport", "identity"),
    HTTP("http", "listen", "connectPorts", "xForwardedFor", "proxyProtocol", "trustedSources", "connectSniCheck",
            "echPolicy", "forwardTraceHeaders", "stripHeaders"),
    SNI_LISTENER("sni[]", "listen", "upstreamPort", "proxyProtocol", "trustedSources"),
    RESOLVER("resolver", "servers", "ipv6", "hosts", "queryTimeout", "maxTtl", "negativeTtl"),
    TIMEOUTS("timeouts", "connect", "handshake", "idle", "drain", "response"),
    POLICY("policy", "allow", "deny", "denyNetworks", "clients", "mode", "roles"),
    ALLOW_ENTRY("policy.allow[]", "host", "ports"),
    ROLE("policy.roles[]", "name", "clients", "workloads", "allow", "deny", "mode", "connectPorts"),
    ROLE_ALLOW_ENTRY("policy.roles[].allow[]", "host", "ports"),
    WORKLOAD("policy.roles[].workloads[]", "namespace", "namespaceSelector", "serviceAccount", "podSelector", "user"),
    IDENTITY("identity", "kubernetes", "basic", "bearer", "allowMissing"),
    IDENTITY_KUBERNETES("identity.kubernetes", "kubeconfig", "unknownClient"),
    IDENTITY_BASIC("identity.basic", "file"),
    IDENTITY_BEARER("identity.bearer", "audience"),
    LIMITS("limits", "connections", "connectionsPerClient"),
    ADMIN("admin", "listen", "idleTimeout", "maxConnections", "pages"),
    ADMIN_PAGES("admin.pages", "clients"),
    ACCESS_LOG("accessLog", "destination", "format"),
    MESH("mesh", "namespace", "proxy", "exportTo", "destinations", "enforce", "monitoring", "dataplane",
            "istioVersion", "legacyEndpoints"),
    MESH_PROXY("mesh.proxy", "addresses", "image", "replicas", "maxReplicas", "proxyProtocol"),
    DESTINATION("mesh.destinations[]", "hosts", "http", "tls"),
    ENFORCE("mesh.enforce", "namespaces", "allowCidrs", "dns", "istio", "cni", "controlPlane", "peers"),
    ENFORCE_DNS("mesh.enforce.dns", "namespace", "podLabels", "addresses", "ports"),
    ENFORCE_CONTROL_PLANE("mesh.enforce.controlPlane", "namespace", "podLabels", "addresses", "ports"),
    ENFORCE_PEER("mesh.enforce.peers[]", "namespace", "podLabels", "addresses", "ports"),
    /** The mapping form of mesh.monitoring (a word, prometheus-operator or none, is the short form of kind). */
    MESH_MONITORING("mesh.monitoring", "kind", "namespaces");

    private final String path;
    private final List<String> keys;

    ConfigSection(String path, String... keys) {
        this.path = path;
        this.keys = List.of(keys);
    }

    /** Where the mapping sits, dotted, a list's items written {@code []}: {@code policy.roles[]}; the root is "". */
    public String path() {
        return path;
    }

    public List<String> keys() {
        return keys;
    }

    /** Every key the loader accepts, as a dotted path from the root: {@code http.listen}, {@code sni[].listen}. */
    public static SortedSet<String> keyPaths() {
        SortedSet<String> paths = new TreeSet<>();
        for (ConfigSection section : values()) {
            for (String key : section.keys) {
                paths.add(section.path.isEmpty() ? key : section.path + "." + key);
            }
        }
        return paths;
    }

    /** The same place as {@link #path()}: a node's path with its list indices written {@code []}. */
    boolean holds(String nodePath) {
        return path.equals(nodePath.replaceAll("\\[\\d+]", "[]"));
    }
}
