package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** mesh.proxy.proxyProtocol: one DestinationRule, every TLS port to the one header listener, in both modes. */
class ProxyProtocolManifestsTest {

    @Test
    void inClusterEveryTlsPortGoesToTheOneListenerAndTheRuleTurnsHeadersOn() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(Files.readString(Path.of("examples/proxy-protocol.yaml")));
        JsonNode rule = MeshManifestsTest.find(objects, "DestinationRule", "mesh-egress-proxy-protocol").path("spec");
        assertThat(rule.path("host").asText()).isEqualTo("mesh-egress.egress.svc.cluster.local");
        assertThat(rule.path("trafficPolicy").toString())
                .isEqualTo("{\"tls\":{\"mode\":\"DISABLE\"},\"proxyProtocol\":{\"version\":\"V2\"}}");
        JsonNode ports = MeshManifestsTest.find(objects, "Service", "mesh-egress").path("spec").path("ports");
        for (int q : new int[] {443, 8443, 9443}) {
            assertThat(MeshManifestsTest.targetPort(ports, q)).as("tls " + q).isEqualTo(8443);
        }
        assertThat(MeshManifestsTest.targetPort(ports, 80)).isEqualTo(8080);
        JsonNode pod = MeshManifestsTest.find(objects, "Deployment", "mesh-egress").path("spec").path("template");
        assertThat(pod.path("metadata").path("annotations").path("sidecar.istio.io/inject").asText())
                .as("a sidecar on the proxy would wrap the header in mTLS").isEqualTo("false");
    }

    @Test
    void outsideTheClusterTheSameRuleAndPorts() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate("""
                http: {listen: "0.0.0.0:8080", proxyProtocol: required, trustedSources: ["10.0.0.0/8"]}
                sni: [{listen: "0.0.0.0:8443", proxyProtocol: required, trustedSources: ["10.0.0.0/8"], upstreamPort: header}]
                mesh:
                  proxy: {addresses: ["192.0.2.10"], proxyProtocol: v1}
                  destinations: [{hosts: ["api.github.com"], tls: [443, 8443]}]
                """);
        JsonNode rule = MeshManifestsTest.find(objects, "DestinationRule", "mesh-egress-proxy-protocol").path("spec");
        assertThat(rule.path("trafficPolicy").path("proxyProtocol").path("version").asText()).isEqualTo("V1");
        JsonNode ports = MeshManifestsTest.find(objects, "Service", "mesh-egress").path("spec").path("ports");
        assertThat(MeshManifestsTest.targetPort(ports, 443)).isEqualTo(8443);
        assertThat(MeshManifestsTest.targetPort(ports, 8443)).isEqualTo(8443);
    }

    @Test
    void withoutHeadersNoRuleAndTheHeaderListenerIsNotARouteTarget() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate("""
                sni:
                  - {listen: "0.0.0.0:8443", upstreamPort: 443}
                  - {listen: "0.0.0.0:9000", proxyProtocol: required, trustedSources: ["10.0.0.0/8"], upstreamPort: header}
                mesh:
                  proxy: {addresses: ["192.0.2.10"]}
                  destinations: [{hosts: ["api.github.com"], tls: [443]}]
                """);
        assertThat(objects).noneMatch(o -> o.path("kind").asText().equals("DestinationRule"));
        JsonNode ports = MeshManifestsTest.find(objects, "Service", "mesh-egress").path("spec").path("ports");
        assertThat(MeshManifestsTest.targetPort(ports, 443)).isEqualTo(8443);
    }

    @Test
    void headersOnEveryPortNeedEveryTargetListenerToReadThem() {
        assertThatThrownBy(() -> MeshManifestsTest.generate("""
                sni: [{listen: "0.0.0.0:8443", proxyProtocol: required, trustedSources: ["10.0.0.0/8"], upstreamPort: header}]
                mesh:
                  proxy: {addresses: ["192.0.2.10"], proxyProtocol: v2}
                  destinations: [{hosts: ["a.example.com"], http: [80]}]
                """)).isInstanceOf(ConfigException.class).hasMessageContaining("mesh.proxy.proxyProtocol: the sidecars "
                + "then write a PROXY header on every port of the proxy Service").hasMessageContaining(
                "set http.proxyProtocol: required");
        assertThatThrownBy(() -> MeshManifestsTest.generate("""
                mesh:
                  proxy: {addresses: ["192.0.2.10"], proxyProtocol: v2}
                  destinations: [{hosts: ["a.example.com"], tls: [443]}]
                """)).isInstanceOf(ConfigException.class).hasMessageContaining("every TLS port then goes to one sni "
                + "listener that takes the port from the PROXY header");
    }

    /** Before Istio 1.23 a DestinationRule with tls mode DISABLE got no PROXY-protocol transport socket. */
    @Test
    void anIstioOlderThanOneTwentyThreeIsRefusedWithTheLineOfItsVersion() throws Exception {
        String example = Files.readString(Path.of("examples/proxy-protocol.yaml"));
        assertThatThrownBy(() -> MeshManifestsTest.generate(example.replace("istioVersion: \"1.28\"",
                "istioVersion: \"1.22\""))).isInstanceOf(ConfigException.class).hasMessageStartingWith("t.yaml:18:17: "
                + "mesh.istioVersion: Istio 1.22's sidecars send no PROXY header when a DestinationRule's tls mode is "
                + "DISABLE (fixed in Istio 1.23)");
        assertThat(MeshManifestsTest.generate(example.replace("istioVersion: \"1.28\"", "istioVersion: \"1.23\"")))
                .anyMatch(o -> o.path("kind").asText().equals("DestinationRule"));
    }
}
