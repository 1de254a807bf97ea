package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Configs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IstioCommandTest {
    @TempDir
    Path dir;

    CliRun run(String... args) {
        return CliRun.of(args);
    }

    Path file(String yaml) throws Exception {
        Path f = dir.resolve("egress.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    static final String WRITEUP = Configs.WRITEUP;

    @Test
    void writesTheManifestsToStdout() throws Exception {
        CliRun r = run("istio", "-c", file(WRITEUP).toString());
        assertThat(r.status()).as(r.err()).isZero();
        String golden = new String(getClass().getResourceAsStream("/mesh/writeup.golden.yaml").readAllBytes(),
                StandardCharsets.UTF_8);
        assertThat(r.out()).isEqualTo(golden);
    }

    @Test
    void writesOneFilePerObjectToADirectory() throws Exception {
        Path out = dir.resolve("out");
        CliRun r = run("istio", "-c", file(WRITEUP).toString(), "-o", out.toString());
        assertThat(r.status()).as(r.err()).isZero();
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    "01-service-mesh-egress.yaml", "02-endpointslice-mesh-egress-ipv4.yaml",
                    "03-serviceentry-wildcard-qq-com.yaml", "04-virtualservice-wildcard-qq-com.yaml",
                    "kustomization.yaml");
        }
        assertThat(Files.readString(out.resolve("03-serviceentry-wildcard-qq-com.yaml")))
                .startsWith("---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n");
        // kubectl's own kustomize builds the directory into exactly the objects istio prints
        Process p = new ProcessBuilder("/usr/bin/kubectl", "kustomize", out.toString()).redirectErrorStream(false)
                .start();
        String built = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(err).isZero();
        com.fasterxml.jackson.databind.ObjectMapper yaml = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        List<com.fasterxml.jackson.databind.JsonNode> fromKustomize = yaml.readValues(yaml.getFactory()
                .createParser(built), com.fasterxml.jackson.databind.JsonNode.class).readAll();
        List<com.fasterxml.jackson.databind.JsonNode> printed = yaml.readValues(yaml.getFactory()
                .createParser(run("istio", "-c", file(WRITEUP).toString()).out()),
                com.fasterxml.jackson.databind.JsonNode.class).readAll();
        assertThat(fromKustomize).containsExactlyInAnyOrderElementsOf(printed);
    }

    @Test
    void meshProblemsAreLocatedConfigErrorsForIstioAndCheckAlike() throws Exception {
        Path f = file("""
                sni:
                  - listen: "0.0.0.0:8443"
                    upstreamPort: 443
                mesh:
                  destinations:
                    - hosts: ["*.qq.com"]
                      tls: [443, 9443]
                """);
        String expected = f + ":7:18: mesh.destinations[0].tls[1]: TLS port 9443 has no sni listener whose upstream "
                + "port is 9443; add one, e.g. sni: [{listen: \"0.0.0.0:9443\"}] (its upstream port is its own port)";
        for (String command : List.of("istio", "check")) {
            CliRun r = run(command, "-c", f.toString());
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err().strip()).isEqualTo(expected);
        }
    }

    @Test
    void theEmbeddedDefaultsNameNoImageSoAnInClusterSetNeedsAFileThatDoes() throws Exception {
        CliRun r = run("istio");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("mesh.proxy: an in-cluster proxy (no mesh.proxy.addresses) needs "
                + "mesh.proxy.image");
        CliRun named = run("istio", "-c", file("""
                http: {listen: "0.0.0.0:8080"}
                sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
                policy: {allow: ["*.qq.com"]}
                mesh:
                  proxy: {image: "registry.example.com/mesh-egress:1.0.0"}
                  destinations: [{hosts: ["*.qq.com"], http: [80], tls: [443]}]
                """).toString());
        assertThat(named.status()).as(named.err()).isZero();
        assertThat(named.out()).contains("kind: ConfigMap", "kind: Deployment", "kind: PodDisruptionBudget",
                "kind: HorizontalPodAutoscaler", "name: wildcard-qq-com",
                "image: registry.example.com/mesh-egress:1.0.0");
    }

    /** In a pod, the Service's targetPort reaches the pod's address: loopback listeners and resolvers cannot work. */
    @Test
    void inClusterWhatCannotWorkInAPodIsRefusedWithItsLine() throws Exception {
        String good = """
                http: {listen: "0.0.0.0:8080"}
                sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
                resolver: {servers: ["10.96.0.10"]}
                policy: {allow: ["*.qq.com"]}
                mesh:
                  proxy: {image: "registry.example.com/mesh-egress:1.0.0"}
                  destinations: [{hosts: ["*.qq.com"], http: [80], tls: [443]}]
                """;
        assertThat(run("istio", "-c", file(good).toString()).status()).isZero();
        String[][] cases = {
                {"http: {listen: \"0.0.0.0:8080\"}", "http: {listen: \"127.0.0.1:8080\"}",
                        ":1:16: http.listen: 127.0.0.1:8080 cannot be bound inside the proxy's pod"},
                {"sni: [{listen: \"0.0.0.0:8443\"", "sni: [{listen: \"127.0.0.1:8443\"",
                        ":2:16: sni[0].listen: 127.0.0.1:8443 cannot be bound inside the proxy's pod"},
                {"\"10.96.0.10\"", "\"127.0.0.53\"",
                        ":3:22: resolver.servers[0]: inside the proxy's pod no resolver listens on loopback"},
                {"  proxy: {image: \"registry.example.com/mesh-egress:1.0.0\"}\n", "",
                        ":6:3: mesh: an in-cluster proxy (no mesh.proxy.addresses) needs mesh.proxy.image"},
                {"policy:", "accessLog: {destination: /var/log/mesh-egress/access.log}\npolicy:",
                        ":4:26: accessLog.destination: the proxy's container has a read-only root filesystem"}};
        for (String[] c : cases) {
            Path f = file(good.replace(c[0], c[1]));
            CliRun r = run("istio", "-c", f.toString());
            assertThat(r.status()).as(c[1]).isEqualTo(2);
            assertThat(r.err()).as(c[1]).startsWith(f + c[2]);
            assertThat(r.err().strip()).as("one line").doesNotContain("\n");
            if (c[1].startsWith("accessLog")) {
                continue; // check itself refuses a log it cannot open, for any file
            }
            // check explains the same file and says what istio would refuse, without failing a VM's unit
            CliRun check = run("check", "-c", f.toString());
            assertThat(check.status()).as(check.err()).isZero();
            assertThat(check.out()).contains("warning: `istio` refuses this file for an in-cluster proxy: " + f + c[2]);
        }
    }
}
