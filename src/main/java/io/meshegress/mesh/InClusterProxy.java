package io.meshegress.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.config.EgressConfig;
import java.util.List;

/**
 * The proxy as an in-cluster workload: the ConfigMap holding the file as written, the Deployment that runs it,
 * a PodDisruptionBudget and a HorizontalPodAutoscaler. Its pods are never part of the mesh: a sidecar in front
 * of the proxy would capture the proxy's own egress, and in ambient mode the label
 * {@code istio.io/dataplane-mode: none} keeps ztunnel from capturing it when its namespace is enrolled.
 */
final class InClusterProxy {
    private final EgressConfig config;
    private final String configText;
    private final String namespace;
    private final String image;

    InClusterProxy(EgressConfig config, String configText, String image) {
        this.config = config;
        this.image = image;
        this.configText = configText;
        this.namespace = config.mesh().namespace();
    }

    List<ObjectNode> all() {
        return List.of(configMap(), deployment(), podDisruptionBudget(), horizontalPodAutoscaler());
    }

    private ObjectNode object(String apiVersion, String kind) {
        return ManifestGenerator.object(apiVersion, kind, ManifestGenerator.NAME, namespace);
    }

    private ObjectNode configMap() {
        ObjectNode c = object("v1", "ConfigMap");
        c.putObject("data").put(ManifestGenerator.CONFIG_FILE, configText);
        return c;
    }

    private ObjectNode deployment() {
        EgressConfig.Proxy proxy = config.mesh().proxy();
        ObjectNode d = object("apps/v1", "Deployment");
        ObjectNode spec = d.putObject("spec");
        spec.put("replicas", proxy.replicas());
        spec.putObject("selector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        ObjectNode template = spec.putObject("template");
        ObjectNode meta = template.putObject("metadata");
        ObjectNode labels = meta.putObject("labels").put("app.kubernetes.io/name", ManifestGenerator.NAME)
                .put("sidecar.istio.io/inject", "false");
        if (config.mesh().dataplane() == EgressConfig.Dataplane.AMBIENT) {
            labels.put("istio.io/dataplane-mode", "none");
        }
        // The proxy is the mesh's exit: a sidecar in front of it would capture its own egress.
        meta.putObject("annotations").put("sidecar.istio.io/inject", "false");
        ObjectNode pod = template.putObject("spec");
        pod.put("terminationGracePeriodSeconds", 45);
        pod.put("automountServiceAccountToken", false);
        if (config.identity().kubernetes() != null) {
            IdentityManifests.runAsReader(pod);
        }
        ObjectNode podSecurity = pod.putObject("securityContext");
        podSecurity.put("runAsNonRoot", true).put("runAsUser", 10001).put("runAsGroup", 10001);
        podSecurity.putObject("seccompProfile").put("type", "RuntimeDefault");
        ObjectNode spread = pod.putArray("topologySpreadConstraints").addObject();
        spread.put("maxSkew", 1).put("topologyKey", "kubernetes.io/hostname").put("whenUnsatisfiable", "ScheduleAnyway");
        spread.putObject("labelSelector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        ObjectNode c = pod.putArray("containers").addObject();
        c.put("name", ManifestGenerator.NAME);
        c.put("image", image);
        ArrayNode args = c.putArray("args");
        args.add("run").add("-c").add(ManifestGenerator.CONFIG_DIR + "/" + ManifestGenerator.CONFIG_FILE)
                .add("--admin-listen").add(ManifestGenerator.ADMIN_LISTEN);
        c.putArray("env").addObject().put("name", "JAVA_TOOL_OPTIONS")
                .put("value", "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData");
        ArrayNode containerPorts = c.putArray("ports");
        if (config.http() != null) {
            containerPorts.addObject().put("name", "http").put("containerPort", config.http().listen().port())
                    .put("protocol", "TCP");
        }
        for (EgressConfig.SniListener s : config.sni()) {
            containerPorts.addObject().put("name", "sni-" + s.listen().port()).put("containerPort", s.listen().port())
                    .put("protocol", "TCP");
        }
        containerPorts.addObject().put("name", "admin").put("containerPort", ManifestGenerator.ADMIN_PORT)
                .put("protocol", "TCP");
        probe(c.putObject("readinessProbe"), "/readyz", 2, 2);
        probe(c.putObject("livenessProbe"), "/healthz", 10, 3);
        ObjectNode resources = c.putObject("resources");
        resources.putObject("requests").put("cpu", "250m").put("memory", "256Mi");
        // A memory limit, no CPU limit: throttling a proxy turns load into latency for every caller.
        resources.putObject("limits").put("memory", "512Mi");
        ObjectNode security = c.putObject("securityContext");
        security.put("allowPrivilegeEscalation", false).put("readOnlyRootFilesystem", true);
        security.putObject("capabilities").putArray("drop").add("ALL");
        ArrayNode mounts = c.putArray("volumeMounts");
        // A directory mount (no subPath) so that a ConfigMap update reaches the running proxy.
        mounts.addObject().put("name", "config").put("mountPath", ManifestGenerator.CONFIG_DIR).put("readOnly", true);
        mounts.addObject().put("name", "tmp").put("mountPath", WRITABLE_DIR);
        ArrayNode volumes = pod.putArray("volumes");
        volumes.addObject().put("name", "config").putObject("configMap").put("name", ManifestGenerator.NAME);
        volumes.addObject().put("name", "tmp").putObject("emptyDir");
        return d;
    }

    /** The one writable directory of the container (an emptyDir; the root filesystem is read-only). */
    static final String WRITABLE_DIR = "/tmp";

    private static void probe(ObjectNode probe, String path, int periodSeconds, int failureThreshold) {
        probe.putObject("httpGet").put("path", path).put("port", "admin");
        probe.put("periodSeconds", periodSeconds).put("failureThreshold", failureThreshold).put("timeoutSeconds", 2);
    }

    private ObjectNode podDisruptionBudget() {
        ObjectNode p = object("policy/v1", "PodDisruptionBudget");
        ObjectNode spec = p.putObject("spec");
        spec.put("minAvailable", 1);
        spec.putObject("selector").putObject("matchLabels").put("app.kubernetes.io/name", ManifestGenerator.NAME);
        return p;
    }

    private ObjectNode horizontalPodAutoscaler() {
        EgressConfig.Proxy proxy = config.mesh().proxy();
        ObjectNode h = object("autoscaling/v2", "HorizontalPodAutoscaler");
        ObjectNode spec = h.putObject("spec");
        spec.putObject("scaleTargetRef").put("apiVersion", "apps/v1").put("kind", "Deployment")
                .put("name", ManifestGenerator.NAME);
        spec.put("minReplicas", proxy.replicas()).put("maxReplicas", proxy.maxReplicas());
        ObjectNode resource = spec.putArray("metrics").addObject().put("type", "Resource").putObject("resource");
        resource.put("name", "cpu");
        resource.putObject("target").put("type", "Utilization").put("averageUtilization", 70);
        return h;
    }
}
