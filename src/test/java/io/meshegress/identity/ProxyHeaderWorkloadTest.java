package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.MockCluster;
import io.meshegress.testing.ProxyUnderTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
        try (MockCluster cluster = MockCluster.start(dir);
             HttpOrigin origin = new HttpOrigin("127.0.0.131", 8081)) {
            cluster.namespace("payments", Map.of());
            cluster.pod("payments", "api-1", "api", Map.of(), "10.1.2.3");
            // The balancer itself is a pod too, in another namespace: its address must not decide.
            cluster.pod("payments", "lb", "lb", Map.of("app", "lb"), "127.0.0.132");
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
                    """.formatted(cluster.kubeconfig()))) {
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> status("10.1.2.3").equals("200"));
                AccessEntry e = proxy.awaitEntry(x -> x.client().startsWith("10.1.2.3:") && x.status() == 200);
                assertThat(e.role()).isEqualTo("payments");
                assertThat(e.peer()).startsWith("127.0.0.132:");
                assertThat(e.workload()).isEqualTo(new AccessEntry.Workload("payments", "api", "api-1"));
                assertThat(status("10.9.9.9")).as("a source that is no pod: the default role").isEqualTo("403");
            }
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
