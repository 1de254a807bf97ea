package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.ConfigSection;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/egress.schema.json, the JSON Schema editors use for egress.yaml: a valid draft 2020-12 schema, naming
 * exactly the loader's keys, accepting every configuration we ship or show (the embedded default, examples/,
 * the Debian conffile, the YAML of the README and of docs/configuration.md) and refusing what the loader refuses
 * as unknown.
 */
class ConfigurationSchemaTest {
    private static final Path REPOSITORY = DocumentationLinksTest.REPOSITORY;
    private static final Path SCHEMA = REPOSITORY.resolve("docs/egress.schema.json");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** YAML 1.2's core schema, as the loader and editors read it: {@code off} is a word, not false. */
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS).build());
    private static final Pattern YAML_BLOCK = Pattern.compile("(?m)^```yaml\\n(.*?)^```", Pattern.DOTALL);
    private static Schema schema;

    @BeforeAll
    static void loadSchema() throws IOException {
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(JSON.readTree(SCHEMA.toFile()));
    }

    private static List<String> problems(String yaml) throws IOException {
        JsonNode instance = YAML.readTree(yaml);
        return schema.validate(instance).stream().map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }

    @Test
    void isAValidDraft2020_12Schema() throws IOException {
        // The meta-schema ships inside the validator (no network): https://json-schema.org/draft/2020-12/schema.
        Schema meta = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        JsonNode document = JSON.readTree(SCHEMA.toFile());
        assertThat(document.path("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        List<Error> errors = meta.validate(document);
        assertThat(errors).isEmpty();
        assertThat(meta.validate(JSON.readTree("{\"type\": 12}"))).as("the meta-schema refuses a broken schema")
                .isNotEmpty();
    }

    @Test
    void namesExactlyTheKeysTheLoaderAccepts() throws IOException {
        SortedSet<String> inSchema = keyPaths(JSON.readTree(SCHEMA.toFile()));
        TreeSet<String> missing = new TreeSet<>(ConfigSection.keyPaths());
        missing.removeAll(inSchema);
        TreeSet<String> unknown = new TreeSet<>(inSchema);
        unknown.removeAll(ConfigSection.keyPaths());
        assertThat(missing).as("keys the loader accepts that docs/egress.schema.json lacks").isEmpty();
        assertThat(unknown).as("properties of docs/egress.schema.json that the loader does not accept").isEmpty();
    }

    /** The schema's keys as dotted paths: a mapping's properties, a list's items written {@code []}. */
    static SortedSet<String> keyPaths(JsonNode schemaDocument) {
        SortedSet<String> paths = new TreeSet<>();
        collect(schemaDocument, "", paths);
        return paths;
    }

    private static void collect(JsonNode node, String prefix, SortedSet<String> paths) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            paths.add(path);
            collect(e.getValue(), path, paths);
            collect(e.getValue().path("items"), path + "[]", paths);
        }
    }

    @Test
    void acceptsTheEmbeddedDefault() throws IOException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("default.yaml")) {
            assertThat(in).isNotNull();
            assertThat(problems(new String(in.readAllBytes(), StandardCharsets.UTF_8))).isEmpty();
        }
    }

    @Test
    void acceptsEveryExampleAndTheDebianConffile() throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> examples = Files.list(REPOSITORY.resolve("examples"))) {
            examples.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(3);
        for (Path example : files) {
            String firstLine = Files.readString(example).lines().findFirst().orElse("");
            assertThat(firstLine).as(example + " names its schema for editors")
                    .startsWith("# yaml-language-server: $schema=");
            Path named = example.getParent().resolve(firstLine.substring(firstLine.indexOf('=') + 1)).normalize();
            assertThat(named).isEqualTo(SCHEMA.normalize());
        }
        Path conffile = REPOSITORY.resolve("packaging/debian/egress.yaml");
        assertThat(Files.readString(conffile).lines().findFirst().orElse("")).as("where the package installs it")
                .isEqualTo("# yaml-language-server: $schema=/usr/share/doc/mesh-egress/docs/egress.schema.json");
        files.add(conffile);
        for (Path file : files) {
            assertThat(problems(Files.readString(file))).as(REPOSITORY.relativize(file).toString()).isEmpty();
        }
    }

    @Test
    void acceptsTheConfigurationsTheDocumentationShowsAndTheLoaderLoadsThem(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        // The files an example names (identity.basic.file: htpasswd, relative to the config) are read with it.
        Files.writeString(dir.resolve("htpasswd"), "ci-runner:$2y$05$5Dws.3opdtfpcey/.sjJo.BB8yRm.cjUuvxSqeZX7oBcnVfBM0nN2\n");
        int blocks = 0;
        for (String page : List.of("README.md", "docs/configuration.md")) {
            Matcher m = YAML_BLOCK.matcher(Files.readString(REPOSITORY.resolve(page)));
            while (m.find()) {
                String yaml = m.group(1);
                assertThat(problems(yaml)).as(page + ":\n" + yaml).isEmpty();
                ConfigLoader.parse(dir.resolve(Path.of(page).getFileName()).toString(), yaml);
                blocks++;
            }
        }
        assertThat(blocks).isGreaterThanOrEqualTo(3);
    }

    @Test
    void refusesWhatTheLoaderRefusesAsUnknownOrMalformed() throws IOException {
        assertThat(problems("timeouts: {conect: 10s}\n")).isNotEmpty();
        assertThat(problems("sni: [{listen: \"0.0.0.0:8443\", upstreamport: 443}]\n")).isNotEmpty();
        assertThat(problems("policy: {roles: [{name: a, clients: [10.0.0.0/8], alow: []}]}\n")).isNotEmpty();
        assertThat(problems("mesh: {enforce: {namespaces: [shop], dns: {namspace: kube-system}}}\n")).isNotEmpty();
        assertThat(problems("http: {proxyProtocol: maybe}\n")).isNotEmpty();
        assertThat(problems("timeouts: {idle: 10 minutes}\n")).isNotEmpty();
        assertThat(problems("sni: [{upstreamPort: 443}]\n")).as("listen is required").isNotEmpty();
        assertThat(problems("http: {connectPorts: [0]}\n")).isNotEmpty();
        assertThat(problems("http: null\nadmin: null\nsni: []\n")).isEmpty();
    }

    @Test
    void theConfigurationPageTellsEditorsWhereTheSchemaIs() throws IOException {
        assertThat(Files.readString(REPOSITORY.resolve("docs/configuration.md")))
                .contains("# yaml-language-server: $schema=");
    }
}
