package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/mesh-egress: a `run` without an archive records one at its exit, and later commands map it. The JVM is
 * told -Xshare:on there, which makes it refuse to start unless the archive really is mapped.
 */
class LauncherIT {

    @Test
    void aRunRecordsTheClassArchiveAndLaterCommandsMapIt(@TempDir Path dir) throws Exception {
        Path archive = dir.resolve("mesh-egress.jsa");
        Path config = Files.writeString(dir.resolve("egress.yaml"), """
                http:
                  listen: "127.0.0.41:8080"
                sni: null
                admin: null
                """);
        Map<String, String> env = Map.of("MESH_EGRESS_CDS", archive.toString());
        try (JarProcess proxy = JarProcess.startLauncher(env, "run", "-c", config.toString())) {
            proxy.awaitErr(l -> l.contains("listening: http 127.0.0.41:8080"));
            assertThat(archive).doesNotExist();
            assertThat(proxy.stop()).isZero();
        }
        assertThat(archive).isNotEmptyFile();

        try (JarProcess version = JarProcess.startLauncher(Map.of("MESH_EGRESS_CDS", archive.toString(),
                "JAVA_OPTS", "-Xshare:on"), "--version")) {
            assertThat(version.awaitExit()).as("stderr: %s", version.err()).isZero();
            // Nothing from the JVM's archive handling may reach stdout, where `istio` writes manifests.
            assertThat(version.out()).hasSize(4);
            assertThat(version.out().get(0)).startsWith("mesh-egress ");
        }
    }

    @Test
    void withoutAJarItSaysHowToGetOne(@TempDir Path dir) throws Exception {
        try (JarProcess launcher = JarProcess.startLauncher(Map.of("MESH_EGRESS_JAR", dir.resolve("none.jar").toString()),
                "--version")) {
            assertThat(launcher.awaitExit()).isEqualTo(1);
            assertThat(launcher.err()).containsExactly(
                    "mesh-egress: cannot find mesh-egress.jar (build it with ./mvnw package, or set MESH_EGRESS_JAR)");
        }
    }
}
