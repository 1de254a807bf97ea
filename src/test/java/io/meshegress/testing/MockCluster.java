package io.meshegress.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Kubernetes API server for the identity tests: fabric8's mock server in CRUD mode on 127.0.0.1 (real list and
 * watch over HTTP, answering from what was written, as kube-apiserver does), a kubeconfig naming it in the test's
 * directory for the proxy to read as a user's would be read, and the namespaces and pods a test puts in it.
 * Closing it stops the server: the proxy then sees an API server that went away.
 */
public final class MockCluster implements AutoCloseable {
    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final Path kubeconfig;

    private MockCluster(KubernetesMockServer server, Path kubeconfig) {
        this.server = server;
        this.client = server.createClient();
        this.kubeconfig = kubeconfig;
    }

    /**
     * Where a cluster will listen and the kubeconfig naming it, fixed before any server listens there: a proxy can
     * start before its API server does, and a server started again on the same port is the same cluster to it.
     */
    public record Endpoint(int port, Path kubeconfig) {
        /** A CRUD server on this endpoint, with an empty store. */
        public MockCluster start() throws IOException {
            return start(new KubernetesCrudDispatcher());
        }

        /** A server on this endpoint answering through {@code dispatcher} (CRUD mode, or a test's variant of it). */
        public MockCluster start(KubernetesCrudDispatcher dispatcher) throws IOException {
            KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                    dispatcher, false);
            server.init(InetAddress.getByName("127.0.0.1"), port);
            return new MockCluster(server, kubeconfig);
        }
    }

    /** An endpoint on a port free on 127.0.0.1 now, its kubeconfig written as {@code dir/kubeconfig}. */
    public static Endpoint reserve(Path dir) throws IOException {
        int port;
        // Closed again at once: nothing listens there until start (each test JVM has its own network namespace,
        // so no other process takes the port meanwhile).
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        // The shape kubectl writes: a cluster, a user with no credential (the mock server asks for none), a context.
        Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters: [{name: mock, cluster: {server: "http://127.0.0.1:%d"}}]
                users: [{name: reader, user: {}}]
                contexts: [{name: mock, context: {cluster: mock, user: reader, namespace: default}}]
                current-context: mock
                """.formatted(port));
        return new Endpoint(port, kubeconfig);
    }

    /** A CRUD cluster on a free port, its kubeconfig written as {@code dir/kubeconfig}. */
    public static MockCluster start(Path dir) throws IOException {
        return reserve(dir).start();
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    /** A namespace with {@code labels} (the API server adds none of its own here, unlike a real one). */
    public void namespace(String name, Map<String, String> labels) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels)
                .endMetadata().build()).create();
    }

    /** A running pod holding {@code ip} (as both podIP and podIPs, as the kubelet reports a single-stack pod). */
    public void pod(String namespace, String name, String serviceAccount, Map<String, String> labels, String ip) {
        Pod pod = new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels)
                .withUid(namespace + "-" + name).endMetadata()
                .withNewSpec().withServiceAccountName(serviceAccount).addNewContainer().withName("c").withImage("x")
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP(ip).endStatus().build();
        Pod created = client.pods().inNamespace(namespace).resource(pod).create();
        // A server that treats status as a subresource drops it on create; the kubelet's update puts it back.
        if (created.getStatus() == null || created.getStatus().getPodIP() == null) {
            client.pods().inNamespace(namespace).resource(new PodBuilder(created).withStatus(pod.getStatus()).build())
                    .updateStatus();
        }
    }

    public void deletePod(String namespace, String name) {
        client.pods().inNamespace(namespace).withName(name).delete();
    }

    /** The pod's containers have ended (phase Succeeded): it keeps its podIP in status but no longer uses it. */
    public void podFinished(String namespace, String name) {
        Pod p = client.pods().inNamespace(namespace).withName(name).get();
        client.pods().inNamespace(namespace).resource(new PodBuilder(p).editStatus().withPhase("Succeeded")
                .endStatus().build()).updateStatus();
    }

    /** The pod runs in the node's network namespace: its podIP is the node's, shared, so it names no workload. */
    public void podOnHostNetwork(String namespace, String name) {
        Pod p = client.pods().inNamespace(namespace).withName(name).get();
        client.pods().inNamespace(namespace).resource(new PodBuilder(p).editSpec().withHostNetwork(true).endSpec()
                .build()).update();
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
