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
                    "01-service-mesh-egress.yaml", "02-endpoints-mesh-egress.yaml",
                    "03-endpointslice-mesh-egress-ipv4.yaml", "04-serviceentry-wildcard-qq-com.yaml",
                    "05-virtualservice-wildcard-qq-com.yaml");
        }
        assertThat(Files.readString(out.resolve("04-serviceentry-wildcard-qq-com.yaml")))
                .startsWith("---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n");
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
    void theEmbeddedDefaultsMakeAnInClusterSet() {
        CliRun r = run("istio");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("kind: ConfigMap", "kind: Deployment", "kind: PodDisruptionBudget",
                "kind: HorizontalPodAutoscaler", "name: wildcard-qq-com");
    }
}
