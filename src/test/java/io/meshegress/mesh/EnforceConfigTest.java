package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.testing.Configs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnforceConfigTest {

    @Test
    void absentMeansNothingNewAndDefaultsAreKubeDnsAndRegistryOnly() throws Exception {
        assertThat(ConfigLoader.parse("e.yaml", Configs.withDefaultListeners("")).mesh().enforce()).isNull();
        EgressConfig.Enforce e = ConfigLoader.parse("e.yaml", Configs.withDefaultListeners("mesh: {enforce: {namespaces: [shop]}}")).mesh().enforce();
        assertThat(e.dns().namespace()).isEqualTo("kube-system");
        assertThat(e.dns().podLabels()).containsEntry("k8s-app", "kube-dns");
        assertThat(e.dns().ports()).containsExactly(53);
        assertThat(e.registryOnly()).isTrue();
        assertThat(e.allowCidrs()).isEmpty();
        assertThat(e.cni()).isEqualTo(EgressConfig.Cni.GENERIC);
        assertThat(e.dns().addresses()).isEmpty();
        assertThat(e.controlPlane()).isEqualTo(new EgressConfig.Peer("istio-system", java.util.Map.of("app", "istiod"),
                java.util.List.of(), java.util.List.of(15012)));
        assertThat(e.peers()).isEmpty();
        EgressConfig.Mesh m = ConfigLoader.embeddedDefault().mesh();
        assertThat(m.exportTo()).containsExactly("*");
        assertThat(m.dataplane()).isEqualTo(EgressConfig.Dataplane.SIDECAR);
        assertThat(m.istioVersion()).hasToString("1.29");
        assertThat(m.legacyEndpoints()).isFalse();
        assertThat(m.scraperNamespaces()).isEmpty();
    }

    @Test
    void theNewKeysReadAsWritten() throws Exception {
        EgressConfig.Mesh m = io.meshegress.testing.Configs.parseWithDefaultListeners("e.yaml", """
                mesh:
                  dataplane: ambient
                  istioVersion: "1.22.3"
                  legacyEndpoints: true
                  monitoring: {kind: prometheus-operator, namespaces: [monitoring]}
                  enforce:
                    namespaces: [shop]
                    cni: cilium
                    dns: {addresses: ["169.254.20.10"]}
                    controlPlane: {addresses: ["203.0.113.10/32"], ports: [15012, 15017]}
                    peers: [{namespace: cert-manager, podLabels: {app: istio-csr}, ports: [443]}]
                """).mesh();
        assertThat(m.dataplane()).isEqualTo(EgressConfig.Dataplane.AMBIENT);
        assertThat(m.istioVersion()).isEqualTo(new EgressConfig.IstioVersion(1, 22));
        assertThat(m.legacyEndpoints()).isTrue();
        assertThat(m.prometheusOperator()).isTrue();
        assertThat(m.scraperNamespaces()).containsExactly("monitoring");
        assertThat(m.enforce().cni()).isEqualTo(EgressConfig.Cni.CILIUM);
        assertThat(m.enforce().dns().namespace()).as("the pods stay").isEqualTo("kube-system");
        assertThat(m.enforce().dns().addresses()).hasToString("[169.254.20.10/32]");
        assertThat(m.enforce().controlPlane().namespace()).as("a key left out keeps its default").isEqualTo("istio-system");
        assertThat(m.enforce().controlPlane().ports()).containsExactly(15012, 15017);
        assertThat(m.enforce().peers().get(0).podLabels()).containsEntry("app", "istio-csr");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            mesh: {enforce: {allowCidrs: [10.0.0.0/8]}}                 | mesh.enforce: namespaces is required
            mesh: {enforce: {namespaces: []}}                           | mesh.enforce.namespaces: at least one namespace
            mesh: {enforce: {namespaces: [Shop]}}                       | mesh.enforce.namespaces[0]: "Shop" is not a Kubernetes namespace name
            mesh: {enforce: {namespaces: [shop], istio: strict}}        | mesh.enforce.istio: "strict" is not registryOnly or off
            mesh: {enforce: {namespaces: [shop], dns: {podLabels: {}}}} | mesh.enforce.dns.podLabels: at least one label
            mesh: {enforce: {namespaces: [shop], allowCidrs: [10.0.0.0/33]}} | mesh.enforce.allowCidrs[0]
            mesh: {enforce: {namespaces: [shop], cni: calico}}          | mesh.enforce.cni: "calico" is not generic or cilium
            mesh: {enforce: {namespaces: [shop], peers: [{ports: [443]}]}} | mesh.enforce.peers[0]: a peer needs a namespace (with podLabels) or addresses
            mesh: {enforce: {namespaces: [shop], peers: [{podLabels: {a: b}}]}} | mesh.enforce.peers[0].podLabels: podLabels need a namespace
            mesh: {dataplane: waypoint}                                 | mesh.dataplane: "waypoint" is not sidecar or ambient
            mesh: {istioVersion: latest}                                | mesh.istioVersion: "latest" is not an Istio version
            mesh: {exportTo: []}                                        | mesh.exportTo: at least one namespace
            mesh: {monitoring: {kind: prometheus}}                      | mesh.monitoring.kind: "prometheus" is not prometheus-operator or none
            """)
    void mistakesAreOneLine(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse("e.yaml", Configs.withDefaultListeners(yaml))).isInstanceOf(ConfigException.class)
                .message().contains(expected);
    }
}
