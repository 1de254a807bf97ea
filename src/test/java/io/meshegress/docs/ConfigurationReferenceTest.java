package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.ConfigSection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md's "Every key" table names exactly the keys the loader accepts ({@link ConfigSection}),
 * each once: a key added to the loader without its row, or a row for a key that does not exist, fails here.
 */
class ConfigurationReferenceTest {
    private static final Path PAGE = DocumentationLinksTest.REPOSITORY.resolve("docs/configuration.md");
    private static final Pattern KEY_ROW = Pattern.compile("^\\|\\s*`([^`]+)`\\s*\\|");

    static List<String> documentedKeys(String page) {
        List<String> keys = new ArrayList<>();
        boolean inTable = false;
        for (String line : page.split("\n")) {
            if (line.startsWith("## ")) {
                inTable = line.equals("## Every key");
                continue;
            }
            Matcher m = KEY_ROW.matcher(line);
            if (inTable && m.find()) {
                keys.add(m.group(1));
            }
        }
        return keys;
    }

    @Test
    void everyKeyTheLoaderAcceptsHasOneRowAndEveryRowIsAKey() throws IOException {
        List<String> documented = documentedKeys(Files.readString(PAGE));
        assertThat(documented).as("keys with more than one row").doesNotHaveDuplicates();

        TreeSet<String> undocumented = new TreeSet<>(ConfigSection.keyPaths());
        undocumented.removeAll(documented);
        TreeSet<String> unknown = new TreeSet<>(documented);
        unknown.removeAll(ConfigSection.keyPaths());
        assertThat(undocumented).as("keys the loader accepts that docs/configuration.md's \"Every key\" table lacks")
                .isEmpty();
        assertThat(unknown).as("rows of docs/configuration.md's \"Every key\" table that the loader does not accept")
                .isEmpty();
    }

    @Test
    void anUnknownKeyErrorNamesThisPage() {
        assertThatThrownBy(() -> ConfigLoader.parse("e.yaml", "timeouts:\n  x: 1s\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("e.yaml:2:3: timeouts.x: unknown key (expected one of: connect, handshake, idle, drain, "
                        + "response; every key is described in docs/configuration.md)");
        assertThat(PAGE).exists();
    }

    @Test
    void rowsAreReadFromTheEveryKeyTableOnly() {
        String page = """
                ## The whole file
                | `notAKey` | x |
                ## Every key
                | key | default | meaning |
                |---|---|---|
                | `http.listen` | `"0.0.0.0:8080"` | its address |
                | `sni[].listen` | required | |
                ## Durations
                | `alsoNotAKey` | y |
                """;
        assertThat(documentedKeys(page)).containsExactly("http.listen", "sni[].listen");
    }

    @Test
    void theLoadersKeyPathsIncludeSectionsListsAndNestedKeys() {
        assertThat(ConfigSection.keyPaths()).contains("http", "http.listen", "sni", "sni[].upstreamPort",
                "policy.roles", "policy.roles[].connectPorts", "mesh.enforce.dns.podLabels", "accessLog.format");
    }
}
