package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code mesh.monitoring: prometheus-operator}: what a Prometheus Operator needs to scrape the proxy and load its
 * alerts. A Service of its own for the admin port ({@code mesh-egress-metrics}: the proxy's Service carries only
 * the listener ports, which the mesh routes to), a ServiceMonitor for it whose job label is
 * {@code mesh-egress} (the job the alerts and the dashboard name), and a PrometheusRule holding exactly the
 * groups of {@code deploy/prometheus/rules.yaml} (packed into the jar at build time, so the two cannot differ).
 */
final class MonitoringManifests {
    static final String METRICS = ManifestGenerator.NAME + "-metrics";
    static final String RULES_RESOURCE = "/io/meshegress/mesh/prometheus/rules.yaml";

    private final EgressConfig config;
    private final String namespace;

    MonitoringManifests(EgressConfig config) {
        this.config = config;
        this.namespace = config.mesh().namespace();
    }

    List<ObjectNode> all() throws ConfigException {
        List<ObjectNode> out = new ArrayList<>();
        List<InetAddress> addresses = config.mesh().proxy().addresses();
        int adminPort = ManifestGenerator.ADMIN_PORT;
        if (!addresses.isEmpty()) {
            // Outside the cluster the proxy's own admin.listen must be reachable from the cluster's Prometheus.
            if (config.admin() == null || config.admin().listen().socketAddress().getAddress().isLoopbackAddress()) {
                throw config.source().error("mesh.monitoring", "prometheus-operator needs the admin listener "
                        + "reachable from the cluster, but admin.listen is "
                        + (config.admin() == null ? "off" : config.admin().listen() + " (loopback)")
                        + "; listen on an address the cluster reaches");
            }
            adminPort = config.admin().listen().port();
        }
        out.add(service(addresses.isEmpty(), adminPort));
        if (!addresses.isEmpty()) {
            out.addAll(endpointSlices(addresses, adminPort));
        }
        out.add(serviceMonitor());
        out.add(prometheusRule());
        return out;
    }

    private ObjectNode object(String apiVersion, String kind, String name) {
        ObjectNode o = ManifestGenerator.object(apiVersion, kind, name, namespace);
        ((ObjectNode) o.get("metadata")).withObjectProperty("labels").put("app.kubernetes.io/component", "metrics");
        return o;
    }

    private ObjectNode service(boolean selector, int adminPort) {
        ObjectNode s = object("v1", "Service", METRICS);
        ObjectNode spec = s.putObject("spec");
        spec.put("type", "ClusterIP");
        if (selector) {
            spec.putObject("selector").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        }
        ObjectNode port = spec.putArray("ports").addObject().put("name", "admin").put("port", adminPort)
                .put("protocol", "TCP");
        if (selector) {
            port.put("targetPort", "admin"); // the Deployment's named container port
        } else {
            port.put("targetPort", adminPort);
        }
        return s;
    }

    private List<ObjectNode> endpointSlices(List<InetAddress> addresses, int adminPort) {
        List<ObjectNode> slices = ManifestGenerator.endpointSlices(METRICS, namespace, addresses,
                ps -> ps.addObject().put("name", "admin").put("port", adminPort).put("protocol", "TCP"));
        slices.forEach(s -> ((ObjectNode) s.get("metadata")).withObjectProperty("labels")
                .put("app.kubernetes.io/component", "metrics"));
        return slices;
    }

    private ObjectNode serviceMonitor() {
        ObjectNode m = object("monitoring.coreos.com/v1", "ServiceMonitor", ManifestGenerator.NAME);
        ObjectNode spec = m.putObject("spec");
        // job="mesh-egress", from the Service's app.kubernetes.io/name label, as the alerts expect.
        spec.put("jobLabel", "app.kubernetes.io/name");
        ObjectNode match = spec.putObject("selector").putObject("matchLabels");
        match.put("app.kubernetes.io/name", ManifestGenerator.NAME).put("app.kubernetes.io/component", "metrics");
        spec.putObject("namespaceSelector").putArray("matchNames").add(namespace);
        spec.putArray("endpoints").addObject().put("port", "admin").put("path", "/metrics").put("interval", "30s")
                .put("scheme", "http");
        return m;
    }

    private ObjectNode prometheusRule() {
        ObjectNode r = object("monitoring.coreos.com/v1", "PrometheusRule", ManifestGenerator.NAME);
        r.putObject("spec").set("groups", rules().get("groups").deepCopy());
        return r;
    }

    /** deploy/prometheus/rules.yaml as the build packed it. */
    static JsonNode rules() {
        try (InputStream in = MonitoringManifests.class.getResourceAsStream(RULES_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RULES_RESOURCE + " is missing from the build");
            }
            return new ObjectMapper(new YAMLFactory()).readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
