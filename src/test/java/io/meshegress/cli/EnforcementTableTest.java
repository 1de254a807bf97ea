package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.mesh.ManifestGenerator;
import io.meshegress.mesh.ManifestValidator;
import io.meshegress.mesh.NetworkPolicyEvaluator;
import io.meshegress.testing.Configs;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * mesh.enforce, end to end on paper: the generated NetworkPolicies evaluated by the NetworkPolicy semantics for a
 * table of (namespace, destination, port, protocol) rows whose expected answer is written by hand; and
 * {@code check --namespace} gives the same answer for every row. Documentation addresses (198.51.100.0/24,
 * 203.0.113.0/24) stand for the internet; nothing is sent anywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnforcementTableTest {
    static final String CONFIG = """
            http: {listen: "0.0.0.0:8080"}
            sni:
              - {listen: "0.0.0.0:8443", upstreamPort: 443}
              - {listen: "0.0.0.0:9443"}
            mesh:
              namespace: egress
              proxy: {image: "registry.example.com/mesh-egress:1.0.0"}
              destinations:
                - hosts: ["*.qq.com"]
                  http: [80]
                  tls: [443, 9443]
              enforce:
                namespaces: [shop, payments]
                allowCidrs: ["10.96.0.0/12", "10.244.0.0/16"]
            """;
    static final NetworkPolicyEvaluator.Pod PROXY_POD = new NetworkPolicyEvaluator.Pod("egress",
            Map.of("app.kubernetes.io/name", "mesh-egress"));
    static final NetworkPolicyEvaluator.Pod DNS_POD = new NetworkPolicyEvaluator.Pod("kube-system",
            Map.of("k8s-app", "kube-dns"));

    Path file;
    List<ObjectNode> objects;
    NetworkPolicyEvaluator policies;

    @BeforeAll
    void generate(@TempDir Path dir) throws Exception {
        file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
        EgressConfig c = ConfigLoader.parse("t.yaml", CONFIG);
        objects = ManifestGenerator.generate(c, CONFIG);
        assertThat(ManifestValidator.load().validate(objects)).isEmpty();
        policies = new NetworkPolicyEvaluator(objects);
    }

    /** The network destination a row stands for: the proxy's pods, the DNS pods, or an address. */
    static NetworkPolicyEvaluator.Peer peer(String where) throws Exception {
        return switch (where) {
            case "proxy" -> new NetworkPolicyEvaluator.Peer(null, PROXY_POD);
            case "dns" -> new NetworkPolicyEvaluator.Peer(null, DNS_POD);
            default -> new NetworkPolicyEvaluator.Peer(InetAddress.getByName(where), null);
        };
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                // namespace, what check is asked, protocol, reaches? (written from Istio's and Kubernetes' semantics:
                // see EnforcementModelTest; check assumes a sidecar mesh on a calico-like CNI with kube-dns)
                Arguments.of("shop", "www.qq.com:443", "TCP", true),
                Arguments.of("shop", "a.b.qq.com:9443", "TCP", true),
                Arguments.of("shop", "www.qq.com:80", "TCP", true),
                Arguments.of("payments", "www.qq.com:443", "TCP", true),
                Arguments.of("payments", "www.qq.com:80", "TCP", true),
                Arguments.of("shop", "dns:53", "UDP", true),
                Arguments.of("shop", "dns:53", "TCP", true),
                Arguments.of("shop", "dns:5353", "UDP", true), // the DNS pods are pods of the cluster
                Arguments.of("payments", "dns:53", "UDP", true),
                Arguments.of("shop", "198.51.100.7:443", "TCP", false),
                Arguments.of("shop", "198.51.100.7:443", "UDP", false),
                Arguments.of("shop", "198.51.100.7:80", "TCP", false),
                Arguments.of("payments", "203.0.113.9:443", "UDP", false),
                Arguments.of("payments", "203.0.113.9:22", "TCP", false),
                Arguments.of("shop", "api.github.com:443", "TCP", false),
                Arguments.of("shop", "www.qq.com:8443", "TCP", false),
                Arguments.of("shop", "qq.com:443", "TCP", false),
                Arguments.of("shop", "x.qq.com.evil:443", "TCP", false),
                Arguments.of("shop", "x.qq.com:22", "TCP", false),
                Arguments.of("shop", "www.qq.com:443", "UDP", false),
                Arguments.of("shop", "db.data.svc:5432", "TCP", true),
                Arguments.of("payments", "db.data.svc:5432", "TCP", true),
                Arguments.of("shop", "169.254.169.254:80", "TCP", false),
                Arguments.of("shop", "[2001:db8::1]:443", "TCP", false),
                Arguments.of("payments", "198.51.100.7:443", "UDP", false),
                // a namespace mesh.enforce does not list is not isolated, and the proxy serves it too
                Arguments.of("blog", "198.51.100.7:443", "TCP", true),
                Arguments.of("blog", "198.51.100.7:443", "UDP", true),
                Arguments.of("blog", "www.qq.com:443", "TCP", true),
                Arguments.of("blog", "www.qq.com:80", "TCP", true),
                Arguments.of("blog", "10.1.2.3:22", "TCP", true));
    }

    @ParameterizedTest(name = "{0} -> {1}/{2}")
    @MethodSource("rows")
    void checkGivesTheHandWrittenAnswer(String ns, String asked, String protocol, boolean reaches) {
        CliRun check = CliRun.of("check", "-c", file.toString(), "--namespace", ns, "--protocol", protocol, asked);
        assertThat(check.status()).as(check.err()).isZero();
        String answer = check.out().lines().filter(l -> l.startsWith("=> ")).findFirst().orElseThrow();
        assertThat(answer).as(check.out()).startsWith(reaches ? "=> reaches" : "=> refused");
        assertThat(check.out()).contains("enforce: namespaces [shop, payments] leave the cluster only through the "
                + "proxy (DNS, the control plane, the cluster's pods, [10.96.0.0/12, 10.244.0.0/16] besides), Sidecar "
                + "REGISTRY_ONLY, as NetworkPolicies");
        assertThat(check.out()).contains("  assumes: dataplane sidecar (mesh.dataplane), a calico-like CNI");
        if (!ns.equals("blog")) {
            assertThat(check.out()).contains("  paths these objects do not close:", "queries can carry data out");
        }
    }

    @Test
    void theProxyPodsServeTheEnforcedNamespacesAndCannotReachAllowCidrs() throws Exception {
        assertThat(policies.ingress(PROXY_POD, new NetworkPolicyEvaluator.Peer(null,
                new NetworkPolicyEvaluator.Pod("shop", Map.of())), 8443, "TCP").allowed()).isTrue();
        assertThat(policies.ingress(PROXY_POD, new NetworkPolicyEvaluator.Peer(null,
                new NetworkPolicyEvaluator.Pod("blog", Map.of())), 8443, "TCP").allowed())
                .as("every namespace sees the routes").isTrue();
        assertThat(policies.ingress(PROXY_POD, new NetworkPolicyEvaluator.Peer(null,
                new NetworkPolicyEvaluator.Pod("blog", Map.of())), 9901, "TCP").allowed())
                .as("no monitoring namespace named").isFalse();
        assertThat(policies.ingress(PROXY_POD, new NetworkPolicyEvaluator.Peer(InetAddress.getByName("10.0.0.5"),
                null, NetworkPolicyEvaluator.Where.NODE), 9901, "TCP").allowed()).as("kubelet probes").isTrue();
        assertThat(policies.ingress(PROXY_POD, peer("10.0.0.5"), 8080, "TCP").allowed()).isFalse();
        assertThat(policies.egress(PROXY_POD, peer("198.51.100.7"), 443, "TCP").allowed()).isTrue();
        assertThat(policies.egress(PROXY_POD, peer("2001:db8::7"), 443, "TCP").allowed()).isTrue();
        assertThat(policies.egress(PROXY_POD, peer("10.96.0.10"), 443, "TCP").allowed()).isFalse();
        assertThat(policies.egress(PROXY_POD, peer("10.244.3.4"), 80, "TCP").allowed()).isFalse();
        assertThat(policies.egress(PROXY_POD, peer("dns"), 53, "UDP").allowed()).isTrue();
    }

    @Test
    void outsideTheClusterTheProxyIsAnAddressAndHasNoPolicyOfItsOwn() throws Exception {
        String yaml = """
                mesh:
                  proxy: {addresses: ["10.0.0.1", "fd00::1"]}
                  destinations: [{hosts: ["*.qq.com"], http: [80], tls: [443]}]
                  enforce: {namespaces: [shop], istio: "off"}
                """;
        List<ObjectNode> external = ManifestGenerator.generate(ConfigLoader.parse("x.yaml",
                Configs.withDefaultListeners(yaml)), Configs.withDefaultListeners(yaml));
        assertThat(ManifestValidator.load().validate(external)).isEmpty();
        assertThat(external).noneMatch(o -> o.path("kind").asText().equals("Sidecar"));
        assertThat(external).filteredOn(o -> o.path("kind").asText().equals("NetworkPolicy")).hasSize(1);
        NetworkPolicyEvaluator p = new NetworkPolicyEvaluator(external);
        NetworkPolicyEvaluator.Pod shop = new NetworkPolicyEvaluator.Pod("shop", Map.of());
        assertThat(p.egress(shop, peer("10.0.0.1"), 8443, "TCP").allowed()).isTrue();
        assertThat(p.egress(shop, peer("fd00::1"), 8080, "TCP").allowed()).isTrue();
        assertThat(p.egress(shop, peer("10.0.0.1"), 22, "TCP").allowed()).isFalse();
        assertThat(p.egress(shop, peer("10.0.0.2"), 8443, "TCP").allowed()).isFalse();
    }

    @Test
    void everyEnforcedNamespaceGetsItsPolicyAndSidecar() {
        for (String ns : List.of("shop", "payments")) {
            ObjectNode sidecar = objects.stream().filter(o -> o.path("kind").asText().equals("Sidecar")
                    && o.path("metadata").path("namespace").asText().equals(ns)).findFirst().orElseThrow();
            assertThat(sidecar.path("spec").toString()).isEqualTo("{\"egress\":[{\"hosts\":[\"*/*\"]}],"
                    + "\"outboundTrafficPolicy\":{\"mode\":\"REGISTRY_ONLY\"}}");
        }
        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("NetworkPolicy")).hasSize(3);
    }
}
