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
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            mesh: {enforce: {allowCidrs: [10.0.0.0/8]}}                 | mesh.enforce: namespaces is required
            mesh: {enforce: {namespaces: []}}                           | mesh.enforce.namespaces: at least one namespace
            mesh: {enforce: {namespaces: [Shop]}}                       | mesh.enforce.namespaces[0]: "Shop" is not a Kubernetes namespace name
            mesh: {enforce: {namespaces: [shop], istio: strict}}        | mesh.enforce.istio: "strict" is not registryOnly or off
            mesh: {enforce: {namespaces: [shop], dns: {podLabels: {}}}} | mesh.enforce.dns.podLabels: at least one label
            mesh: {enforce: {namespaces: [shop], allowCidrs: [10.0.0.0/33]}} | mesh.enforce.allowCidrs[0]
            """)
    void mistakesAreOneLine(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse("e.yaml", Configs.withDefaultListeners(yaml))).isInstanceOf(ConfigException.class)
                .message().contains(expected);
    }
}
