package io.meshegress.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.mesh.ManifestGenerator;
import io.meshegress.mesh.ManifestValidator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "istio", mixinStandardHelpOptions = true,
        description = "Kubernetes + Istio manifests that send the mesh's traffic for mesh.destinations to this proxy, "
                + "as multi-document YAML on stdout (or one file per object in DIR, with a kustomization.yaml listing "
                + "them). Every object is validated first: against the Kubernetes 1.34 and Istio 1.29 schemas, and "
                + "CiliumNetworkPolicies field by field from Cilium's documentation.")
final class IstioCommand implements Callable<Integer> {
    /** Built on first use: picocli instantiates every subcommand at start, and `run` has no use for it. */
    private static final class Yaml {
        static final ObjectMapper MAPPER = new ObjectMapper(YAMLFactory.builder()
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
                .disable(YAMLGenerator.Feature.SPLIT_LINES)
                .build());
    }

    @Mixin
    private ConfigOption config;

    @Option(names = {"-o", "--output-dir"}, paramLabel = "DIR", description = "write one file per object here, and a kustomization.yaml that lists them")
    private Path outputDir;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        List<ObjectNode> objects;
        try {
            objects = manifests(config.load(), config.text());
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        } catch (InvalidManifestsException e) {
            e.problems.forEach(p -> spec.commandLine().getErr().println(config.name() + ": invalid manifest: " + p));
            return Main.CONFIG_ERROR;
        }
        if (outputDir == null) {
            spec.commandLine().getOut().print(toYaml(objects));
            spec.commandLine().getOut().flush();
            return Main.OK;
        }
        Files.createDirectories(outputDir);
        List<String> files = new java.util.ArrayList<>();
        for (int i = 0; i < objects.size(); i++) {
            ObjectNode o = objects.get(i);
            String file = String.format(Locale.ROOT, "%02d-%s-%s.yaml", i + 1,
                    o.path("kind").asText().toLowerCase(Locale.ROOT), o.path("metadata").path("name").asText());
            Files.writeString(outputDir.resolve(file), toYaml(List.of(o)));
            files.add(file);
        }
        Files.writeString(outputDir.resolve(KUSTOMIZATION), kustomization(files));
        spec.commandLine().getOut().println("wrote " + objects.size() + " objects and " + KUSTOMIZATION + " to "
                + outputDir);
        return Main.OK;
    }

    static final String KUSTOMIZATION = "kustomization.yaml";

    /** A Kustomization listing the files, in order: {@code kubectl apply -k DIR} applies them all. */
    static String kustomization(List<String> files) {
        StringBuilder k = new StringBuilder("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                + "resources:\n");
        files.forEach(f -> k.append("- ").append(f).append('\n'));
        return k.toString();
    }

    /** Generates and validates for a cluster. */
    static List<ObjectNode> manifests(EgressConfig cfg, String text) throws ConfigException, InvalidManifestsException {
        return manifests(cfg, text, ManifestGenerator.Use.APPLY);
    }

    /** Generates and validates; {@code check} describes. */
    static List<ObjectNode> manifests(EgressConfig cfg, String text, ManifestGenerator.Use use)
            throws ConfigException, InvalidManifestsException {
        List<ObjectNode> objects = ManifestGenerator.generate(cfg, text, use);
        List<String> problems = ManifestValidator.load().validate(objects);
        if (!problems.isEmpty()) {
            throw new InvalidManifestsException(problems);
        }
        return objects;
    }

    static String toYaml(List<ObjectNode> objects) {
        StringWriter out = new StringWriter();
        try (SequenceWriter w = Yaml.MAPPER.writer().writeValues(out)) {
            for (ObjectNode o : objects) {
                w.write(o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Objects that a cluster would reject; each problem names the object and field. */
    static final class InvalidManifestsException extends Exception {
        final List<String> problems;

        InvalidManifestsException(List<String> problems) {
            super(String.join("; ", problems), null, false, false);
            this.problems = List.copyOf(problems);
        }
    }
}
