package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dockerfile's build stage, without a Docker engine (these machines have none): the files its COPY lines
 * name, and nothing else, are copied into an empty directory, and its RUN lines run there with its ARG defaults,
 * as `docker build` would run them. The jar it makes must exist, hold the alert rules, the licence and every
 * other entry of the checkout's own jar, and be the file the image stage copies. Maven runs offline (MAVEN_ARGS=-o: the test has no network); the wrapper and the plugins come
 * from this machine's Maven repository, as a cache mount would give them.
 */
class DockerfileIT {
    private static final Pattern INSTRUCTION = Pattern.compile("^(FROM|WORKDIR|COPY|ARG|RUN|ENV|USER|EXPOSE|ENTRYPOINT|CMD)\\s+(.*)$");

    @Test
    void theBuildStageBuildsFromTheFilesItCopiesAlone(@TempDir Path context) throws Exception {
        List<String> lines = logicalLines(Files.readAllLines(Path.of("Dockerfile")));
        Map<String, String> args = new HashMap<>();
        String workdir = null;
        String imageCopiesJarFrom = null;
        int stage = 0;
        for (String line : lines) {
            Matcher m = INSTRUCTION.matcher(line);
            assertThat(m.matches()).as("a Dockerfile instruction this test knows: %s", line).isTrue();
            String op = m.group(1);
            String rest = m.group(2);
            if (op.equals("FROM")) {
                stage++;
                continue;
            }
            if (stage == 2 && op.equals("COPY") && rest.startsWith("--from=build ") && rest.contains(".jar")) {
                imageCopiesJarFrom = rest.split("\\s+")[1];
            }
            if (stage != 1) {
                continue;
            }
            switch (op) {
                case "WORKDIR" -> workdir = rest;
                case "ARG" -> {
                    String[] kv = rest.split("=", 2);
                    args.put(kv[0], kv.length > 1 ? kv[1] : "");
                }
                case "COPY" -> copy(rest, context);
                case "RUN" -> {
                    String command = rest.replaceFirst("^(--mount=\\S+\\s+)+", "");
                    ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).directory(context.toFile())
                            .redirectErrorStream(true);
                    pb.environment().putAll(args);
                    pb.environment().put("MAVEN_ARGS", "-o");
                    Process p = pb.start();
                    String out = new String(p.getInputStream().readAllBytes());
                    assertThat(p.waitFor()).as("RUN %s\n%s", command, out).isZero();
                }
                default -> throw new AssertionError("the build stage has an instruction this test does not replay: " + line);
            }
        }
        assertThat(workdir).isEqualTo("/src");
        assertThat(imageCopiesJarFrom).isEqualTo("/src/target/mesh-egress.jar");
        Path jar = context.resolve("target/mesh-egress.jar");
        assertThat(jar).isRegularFile();
        try (ZipFile zip = new ZipFile(jar.toFile()); ZipFile full = new ZipFile(JarProcess.jar().toFile())) {
            assertThat(zip.getEntry("io/meshegress/mesh/prometheus/rules.yaml")).as("the alert rules in the jar").isNotNull();
            assertThat(zip.getEntry("META-INF/LICENSE")).as("the licence in the jar").isNotNull();
            // Whatever else the build reads from the repository: the same entries as the checkout's own jar.
            assertThat(names(zip)).as("entries of the image's jar against ./mvnw package's")
                    .containsExactlyInAnyOrderElementsOf(names(full));
        }
        Command version = Command.run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "--version"));
        assertThat(version.exitCode()).as(version.err()).isZero();
        assertThat(version.out()).contains("commit unknown");
    }

    private static List<String> names(ZipFile zip) {
        return zip.stream().map(java.util.zip.ZipEntry::getName).toList();
    }

    /** COPY SRC... DEST, relative to the build context (the repository) and to the build directory. */
    private static void copy(String spec, Path context) throws Exception {
        List<String> parts = List.of(spec.split("\\s+"));
        assertThat(parts).as("COPY %s", spec).hasSizeGreaterThanOrEqualTo(2).noneMatch(p -> p.startsWith("--"));
        String dest = parts.get(parts.size() - 1);
        for (String src : parts.subList(0, parts.size() - 1)) {
            Path from = Path.of(src);
            assertThat(from).as("COPY source %s", src).exists();
            Path to = dest.endsWith("/") ? context.resolve(dest).resolve(from.getFileName().toString()) : context.resolve(dest);
            Files.createDirectories(to.getParent());
            Command cp = Command.run(List.of("cp", "-a", from.toString(), to.toString()));
            assertThat(cp.exitCode()).as(cp.err()).isZero();
        }
    }

    /** Instructions, with continued lines joined and comments and the parser directive left out. */
    private static List<String> logicalLines(List<String> raw) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : raw) {
            if (current.isEmpty() && (line.isBlank() || line.startsWith("#"))) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
            } else {
                out.add(current.append(line).toString().strip());
                current.setLength(0);
            }
        }
        return out;
    }
}
