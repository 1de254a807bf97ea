package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.testing.Command;
import io.meshegress.testing.Configs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mesh.monitoring: prometheus-operator: a metrics Service, a ServiceMonitor whose job is "mesh-egress" and a
 * PrometheusRule holding exactly deploy/prometheus/rules.yaml, in both deployment modes; checked by the
 * validator and, for the rules, by the real promtool.
 */
class MonitoringManifestsTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static List<ObjectNode> manifests(String yaml) throws ConfigException {
        String file = Configs.withDefaultListeners(yaml);
        return ManifestGenerator.generate(ConfigLoader.parse("m.yaml", file), file, ManifestGenerator.Use.DESCRIBE);
    }

    static ObjectNode find(List<ObjectNode> objects, String kind, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(kind + " " + name + " not generated"));
    }

    @Test
    void inClusterScrapesThePodsAdminPortAsJobMeshEgressAndCarriesTheAlerts(@TempDir Path dir) throws Exception {
        List<ObjectNode> objects = manifests("mesh: {namespace: egress, monitoring: prometheus-operator}");
        assertThat(ManifestValidator.load().validate(objects)).isEmpty();
        ObjectNode service = find(objects, "Service", "mesh-egress-metrics");
        assertThat(service.at("/spec/selector/app.kubernetes.io~1name").asText()).isEqualTo("mesh-egress");
        assertThat(service.at("/spec/ports/0/name").asText()).isEqualTo("admin");
        assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("admin");
        ObjectNode deployment = find(objects, "Deployment", "mesh-egress");
        assertThat(deployment.at("/spec/template/spec/containers/0/ports").findValuesAsText("name")).contains("admin");
        ObjectNode monitor = find(objects, "ServiceMonitor", "mesh-egress");
        assertThat(monitor.at("/spec/jobLabel").asText()).isEqualTo("app.kubernetes.io/name");
        assertThat(service.at("/metadata/labels/app.kubernetes.io~1name").asText()).isEqualTo("mesh-egress");
        assertThat(monitor.at("/spec/namespaceSelector/matchNames/0").asText()).isEqualTo("egress");
        assertThat(monitor.at("/spec/endpoints/0/path").asText()).isEqualTo("/metrics");

        JsonNode rules = find(objects, "PrometheusRule", "mesh-egress").at("/spec/groups");
        JsonNode shipped = YAML.readTree(Path.of("deploy/prometheus/rules.yaml").toFile()).get("groups");
        assertThat(rules).isEqualTo(shipped);
        Path file = dir.resolve("from-prometheusrule.yaml");
        YAML.writeValue(file.toFile(), YAML.createObjectNode().set("groups", rules));
        Command promtool = Command.run(List.of("promtool", "check", "rules", file.toString()));
        assertThat(promtool.exitCode()).as(promtool.out() + promtool.err()).isZero();
        assertThat(promtool.out()).contains("SUCCESS: 8 rules found");
    }

    @Test
    void outsideTheClusterTheAdminListenerMustBeReachableAndGetsEndpointSlices() throws Exception {
        List<ObjectNode> objects = manifests("""
                admin: {listen: "0.0.0.0:9911"}
                mesh: {proxy: {addresses: ["10.0.0.1", "fd00::1"]}, monitoring: prometheus-operator}
                """);
        assertThat(ManifestValidator.load().validate(objects)).isEmpty();
        ObjectNode service = find(objects, "Service", "mesh-egress-metrics");
        assertThat(service.at("/spec/selector").isMissingNode()).isTrue();
        assertThat(service.at("/spec/ports/0/port").asInt()).isEqualTo(9911);
        ObjectNode v4 = find(objects, "EndpointSlice", "mesh-egress-metrics-ipv4");
        assertThat(v4.at("/metadata/labels/kubernetes.io~1service-name").asText()).isEqualTo("mesh-egress-metrics");
        assertThat(v4.at("/endpoints/0/addresses/0").asText()).isEqualTo("10.0.0.1");
        assertThat(v4.at("/ports/0/port").asInt()).isEqualTo(9911);
        assertThat(find(objects, "EndpointSlice", "mesh-egress-metrics-ipv6").at("/endpoints/0/addresses/0").asText())
                .isEqualTo("fd00:0:0:0:0:0:0:1");

        assertThatThrownBy(() -> manifests("mesh: {proxy: {addresses: [\"10.0.0.1\"]}, monitoring: prometheus-operator}"))
                .isInstanceOf(ConfigException.class).message()
                .contains("mesh.monitoring").contains("127.0.0.1:9901 (loopback)");
    }

    @Test
    void absentOrNoneEmitsNothingAndAnUnknownValueIsOneLine() throws Exception {
        for (String yaml : List.of("", "mesh: {monitoring: none}")) {
            assertThat(manifests(yaml)).noneMatch(o -> o.path("apiVersion").asText().startsWith("monitoring.coreos.com/")
                    || o.path("metadata").path("name").asText().equals("mesh-egress-metrics"));
        }
        assertThatThrownBy(() -> ConfigLoader.parse("m.yaml", Configs.withDefaultListeners("mesh: {monitoring: prometheus}")))
                .isInstanceOf(ConfigException.class).message()
                .isEqualTo("m.yaml:1:20: mesh.monitoring: \"prometheus\" is not prometheus-operator or none");
    }

    @Test
    void theValidatorRefusesAMonitorThatSelectsNothingOrNamesNoPort() throws Exception {
        List<ObjectNode> objects = manifests("mesh: {monitoring: prometheus-operator}");
        ObjectNode monitor = find(objects, "ServiceMonitor", "mesh-egress");
        ((ObjectNode) monitor.at("/spec/endpoints/0")).put("port", "metrics");
        assertThat(ManifestValidator.load().validate(objects)).anyMatch(p -> p.contains("has no port named \"metrics\""));
        ((ObjectNode) monitor.at("/spec/selector/matchLabels")).put("app.kubernetes.io/component", "other");
        assertThat(ManifestValidator.load().validate(objects)).anyMatch(p -> p.contains("selects no generated Service"));
        ((ObjectNode) find(objects, "PrometheusRule", "mesh-egress").at("/spec/groups/0/rules/0")).remove("expr");
        assertThat(ManifestValidator.load().validate(objects)).anyMatch(p -> p.contains("a rule needs exactly one"));
    }
}
