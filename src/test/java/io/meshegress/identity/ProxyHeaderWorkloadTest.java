package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Behind a PROXY-protocol listener (a proxy outside the cluster, reached through a load balancer), the header's
 * source is the pod's address and selects its workload; the TCP peer (the balancer) is never looked up. The
 * cluster is fabric8's mock API server in CRUD mode, watched over a real socket through a kubeconfig.
 */
class ProxyHeaderWorkloadTest {

    @Test
    void theHeadersSourceSelectsTheWorkload(@TempDir Path dir) throws Exception {
        KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        api.init(InetAddress.getByName("127.0.0.1"), 0);
        try (KubernetesClient k8s = api.createClient();
             HttpOrigin origin = new HttpOrigin("127.0.0.131", 8081)) {
            k8s.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("payments").endMetadata()
                    .build()).create();
            k8s.pods().inNamespace("payments").resource(new PodBuilder().withNewMetadata().withName("api-1")
                    .withNamespace("payments").withUid("u1").endMetadata().withNewSpec().withServiceAccountName("api")
                    .addNewContainer().withName("c").withImage("x").endContainer().endSpec().withNewStatus()
                    .withPhase("Running").withPodIP("10.1.2.3").addNewPodIP("10.1.2.3").endStatus().build()).create();
            // The balancer itself is a pod too, in another namespace: its address must not decide.
            k8s.pods().inNamespace("payments").resource(new PodBuilder().withNewMetadata().withName("lb")
                    .withNamespace("payments").withUid("u2").withLabels(Map.of("app", "lb")).endMetadata()
                    .withNewSpec().withServiceAccountName("lb").addNewContainer().withName("c").withImage("x")
                    .endContainer().endSpec().withNewStatus().withPhase("Running").withPodIP("127.0.0.132")
                    .endStatus().build()).create();
            Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: mock, cluster: {server: "http://127.0.0.1:%d"}}]
                    users: [{name: reader, user: {}}]
                    contexts: [{name: mock, context: {cluster: mock, user: reader}}]
                    current-context: mock
                    """.formatted(api.getPort()));
            try (ProxyUnderTest proxy = new ProxyUnderTest("""
                    http:
                      listen: "127.0.0.130:8080"
                      proxyProtocol: required
                      trustedSources: ["127.0.0.132/32"]
                    admin: null
                    resolver: {hosts: {pay.qq.test: 127.0.0.131}}
                    identity: {kubernetes: {kubeconfig: "%s"}}
                    policy:
                      denyNetworks: []
                      allow: []
                      roles:
                        - {name: payments, workloads: [{namespace: payments, serviceAccount: api}], allow: [pay.qq.test]}
                    """.formatted(kubeconfig))) {
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> status("10.1.2.3").equals("200"));
                AccessEntry e = proxy.awaitEntry(x -> x.client().startsWith("10.1.2.3:") && x.status() == 200);
                assertThat(e.role()).isEqualTo("payments");
                assertThat(e.peer()).startsWith("127.0.0.132:");
                assertThat(e.workload()).isEqualTo(new AccessEntry.Workload("payments", "api", "api-1"));
                assertThat(status("10.9.9.9")).as("a source that is no pod: the default role").isEqualTo("403");
            }
        } finally {
            api.destroy();
        }
    }

    /** One request from the balancer's address, its PROXY v1 header naming {@code source}. */
    static String status(String source) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.132", 0));
            s.connect(new InetSocketAddress("127.0.0.130", 8080), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("PROXY TCP4 " + source + " 127.0.0.130 40000 8080\r\n"
                    + "GET http://pay.qq.test:8081/hello HTTP/1.1\r\nHost: pay.qq.test:8081\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1))
                    .readLine();
            return line == null ? "closed" : line.split(" ")[1];
        }
    }
}
