package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * mesh.dataplane: ambient. ztunnel applies no VirtualService or Sidecar (Istio docs, ambient overview), so the
 * output has none; workloads name the proxy in HTTP_PROXY/HTTPS_PROXY from a ConfigMap for envFrom; the proxy's
 * pods stay out of the mesh (istio.io/dataplane-mode: none).
 */
class AmbientManifestsTest {
    static final String CONFIG = """
            http: {listen: "0.0.0.0:3128"}
            sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
            policy: {allow: ["*.qq.com"]}
            mesh:
              namespace: egress
              dataplane: ambient
              proxy: {image: "registry.example.com/mesh-egress:1.0.0"}
              destinations: [{hosts: ["*.qq.com"], http: [80], tls: [443]}]
              enforce: {namespaces: [shop, payments]}
            """;

    @Test
    void noRoutesButTheProxyVariablesInEveryEnforcedNamespace() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG);
        assertThat(objects).extracting(o -> o.path("kind").asText())
                .doesNotContain("VirtualService", "Sidecar", "ServiceEntry");
        for (String ns : List.of("shop", "payments")) {
            JsonNode env = objects.stream().filter(o -> o.path("kind").asText().equals("ConfigMap")
                    && o.path("metadata").path("namespace").asText().equals(ns)).findFirst().orElseThrow();
            assertThat(env.path("metadata").path("name").asText()).isEqualTo("mesh-egress-proxy-env");
            assertThat(env.path("data").path("HTTPS_PROXY").asText())
                    .isEqualTo("http://mesh-egress.egress.svc.cluster.local:3128");
            assertThat(env.path("data").path("http_proxy").asText()).as("curl reads only the lower case")
                    .isEqualTo("http://mesh-egress.egress.svc.cluster.local:3128");
            assertThat(env.path("data").path("NO_PROXY").asText()).contains(".svc", ".cluster.local");
        }
        JsonNode service = MeshManifestsTest.find(objects, "Service", "mesh-egress");
        assertThat(service.path("spec").path("ports").toString())
                .isEqualTo("[{\"name\":\"http-proxy\",\"port\":3128,\"targetPort\":3128,\"protocol\":\"TCP\"}]");
        JsonNode labels = MeshManifestsTest.find(objects, "Deployment", "mesh-egress")
                .path("spec").path("template").path("metadata").path("labels");
        assertThat(labels.path("istio.io/dataplane-mode").asText()).isEqualTo("none");
        // ztunnel, not a sidecar, reaches istiod: the enforced pods get no control-plane rule
        JsonNode policy = objects.stream().filter(o -> o.path("kind").asText().equals("NetworkPolicy")
                && o.path("metadata").path("namespace").asText().equals("shop")).findFirst().orElseThrow();
        assertThat(policy.toString()).doesNotContain("istiod");
    }

    @Test
    void ambientNeedsTheHttpListenerAndNoProxyProtocol() {
        assertThatThrownBy(() -> MeshManifestsTest.generate(CONFIG.replace("http: {listen: \"0.0.0.0:3128\"}",
                "http: null"))).isInstanceOf(ConfigException.class).hasMessageContaining("mesh.dataplane: ambient "
                + "workloads reach the proxy as HTTP_PROXY and HTTPS_PROXY, which needs the http listener");
    }
}
