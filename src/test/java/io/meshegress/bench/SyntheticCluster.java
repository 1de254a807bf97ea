package io.meshegress.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A Kubernetes API server with a synthetic cluster, for the identity benchmarks (bench/identity-heap, bench/ab
 * --identity): fabric8's mock server in CRUD mode holding the namespaces, whose list of all pods is answered from
 * a pod list made here (creating tens of thousands of pods one request at a time would take minutes). Watches are
 * the mock server's own and stay open with no events. Never run by the test suite.
 *
 * <p>The pods look like a meshed cluster's: Deployments of 2-8 replicas in 250 namespaces, each pod with its
 * Deployment's labels (app, version, pod-template-hash, team, app.kubernetes.io/name and part-of, Istio's
 * tlsMode and canonical name and revision), a service account per app, an app container and an istio-proxy
 * container, the sidecar-status annotation; one pod in ten dual-stack, one in fifty a finished Job pod, one
 * host-network agent per 100 pods. Seeded, so every run serves the same cluster.
 *
 * <pre>java -cp ... io.meshegress.bench.SyntheticCluster PODS KUBECONFIG [LOAD_ADDRESS]</pre>
 * LOAD_ADDRESS, if given, is one more pod (namespace bench, app=load) holding that address, for a load generator.
 */
public final class SyntheticCluster {
    private SyntheticCluster() {
    }

    public static void main(String[] args) throws Exception {
        int pods = Integer.parseInt(args[0]);
        Path kubeconfig = Path.of(args[1]);
        String loadAddress = args.length > 2 ? args[2] : null;
        Random random = new Random(28);
        List<String> namespaces = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            namespaces.add("team-" + i + "-" + word(random, 6));
        }
        List<Pod> items = new ArrayList<>(pods + 1);
        int made = 0;
        while (made < pods) {
            String ns = namespaces.get(random.nextInt(namespaces.size()));
            String app = word(random, 4 + random.nextInt(8));
            String hash = hex(random, 10);
            int replicas = Math.min(pods - made, 2 + random.nextInt(7));
            for (int r = 0; r < replicas; r++, made++) {
                items.add(pod(random, made, ns, app, hash));
            }
        }
        if (loadAddress != null) {
            items.add(new PodBuilder().withNewMetadata().withNamespace("bench").withName("load").withUid("bench-load")
                    .withLabels(Map.of("app", "load")).endMetadata().withNewSpec().withServiceAccountName("load")
                    .endSpec().withNewStatus().withPhase("Running").withPodIP(loadAddress).addNewPodIP(loadAddress)
                    .endStatus().build());
            namespaces.add("bench");
        }
        byte[] podList = new KubernetesSerialization().asJson(new PodListBuilder().withNewMetadata().withResourceVersion("1")
                .endMetadata().withItems(items).build()).getBytes(StandardCharsets.UTF_8);
        items.clear();

        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new FixedPodList(podList), false);
        server.init(InetAddress.getByName("127.0.0.1"), 0);
        try (KubernetesClient k8s = server.createClient()) {
            for (String ns : namespaces) {
                k8s.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
                        .withLabels(Map.of("kubernetes.io/metadata.name", ns, "istio-injection", "enabled",
                                "team", team(ns)))
                        .endMetadata().build()).create();
            }
        }
        Path written = Files.writeString(kubeconfig.resolveSibling(kubeconfig.getFileName() + ".tmp"), """
                apiVersion: v1
                kind: Config
                clusters: [{name: synthetic, cluster: {server: "http://127.0.0.1:%d"}}]
                users: [{name: reader, user: {}}]
                contexts: [{name: synthetic, context: {cluster: synthetic, user: reader}}]
                current-context: synthetic
                """.formatted(server.getPort()));
        Files.move(written, kubeconfig);
        System.out.printf("synthetic cluster: %d pods (%d bytes of pod list) on 127.0.0.1:%d%n", pods,
                podList.length, server.getPort());
        Thread.currentThread().join();
    }

    private static Pod pod(Random random, int n, String ns, String app, String hash) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app", app);
        labels.put("version", "v" + (1 + n % 3));
        labels.put("pod-template-hash", hash);
        labels.put("team", team(ns));
        labels.put("app.kubernetes.io/name", app);
        labels.put("app.kubernetes.io/part-of", ns);
        labels.put("security.istio.io/tlsMode", "istio");
        labels.put("service.istio.io/canonical-name", app);
        labels.put("service.istio.io/canonical-revision", "v" + (1 + n % 3));
        String name = app + "-" + hash + "-" + word(random, 5);
        boolean hostNetwork = n % 100 == 99;
        String phase = n % 50 == 49 ? "Succeeded" : "Running";
        String v4 = hostNetwork ? "192.168.0." + (n / 100 % 250 + 1)
                : "10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255);
        PodBuilder b = new PodBuilder().withNewMetadata().withNamespace(ns).withName(name)
                .withUid(uuid(random)).withResourceVersion(Integer.toString(1000 + n)).withLabels(labels)
                .withAnnotations(Map.of("sidecar.istio.io/status", "{\"initContainers\":[\"istio-init\"],"
                        + "\"containers\":[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"credential-socket\","
                        + "\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\","
                        + "\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"default\"}",
                        "kubectl.kubernetes.io/default-container", app))
                .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(app + "-" + hash)
                .withUid(uuid(random)).withController(true).endOwnerReference()
                .endMetadata()
                .withNewSpec().withServiceAccountName(app).withHostNetwork(hostNetwork ? true : null)
                .withNodeName("node-" + (n / 100))
                .addNewContainer().withName(app).withImage("registry.example/" + ns + "/" + app + ":1." + (n % 7))
                .addNewPort().withContainerPort(8080).withProtocol("TCP").endPort()
                .addNewEnv().withName("LOG_LEVEL").withValue("info").endEnv().endContainer()
                .addNewContainer().withName("istio-proxy").withImage("docker.io/istio/proxyv2:1.28.0")
                .withArgs("proxy", "sidecar", "--domain", ns + ".svc.cluster.local").endContainer()
                .endSpec();
        b.withNewStatus().withPhase(phase).withPodIP(v4).addNewPodIP(v4).withHostIP("192.168.0." + (n / 100 % 250 + 1))
                .endStatus();
        if (!hostNetwork && n % 10 == 3) {
            b.editStatus().addNewPodIP("fd00:10::" + Integer.toHexString(n >> 16) + ":" + Integer.toHexString(n & 0xffff))
                    .endStatus();
        }
        return b.build();
    }

    /** team-12-abcdef belongs to team-12; the bench namespace to itself. */
    private static String team(String namespace) {
        int dash = namespace.lastIndexOf('-');
        return dash < 0 ? namespace : namespace.substring(0, dash);
    }

    private static String word(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + random.nextInt(26)));
        }
        return sb.toString();
    }

    private static String hex(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append("0123456789bcdf".charAt(random.nextInt(14)));
        }
        return sb.toString();
    }

    private static String uuid(Random random) {
        return new java.util.UUID(random.nextLong(), random.nextLong()).toString();
    }

    /** CRUD mode, but the list of all pods is the prepared one (a watch of pods opens and stays quiet). */
    private static final class FixedPodList extends KubernetesCrudDispatcher {
        private final byte[] podList;

        FixedPodList(byte[] podList) {
            this.podList = podList;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            if (request.getMethod().equals("GET") && (path.equals("/api/v1/pods") || path.startsWith("/api/v1/pods?"))
                    && !path.contains("watch=true")) {
                return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
                        .setBody(podList);
            }
            return super.dispatch(request);
        }
    }
}
