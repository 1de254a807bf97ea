package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The per-namespace guide's configuration files are real: every {@code yaml} block in it loads with the loader, as
 * a user who copies it would load it, and says what the guide says it does.
 */
class GuideConfigBlocksTest {
    static final Path GUIDE = DocumentationLinksTest.REPOSITORY.resolve("docs/per-namespace-egress.md");
    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})\\s*(\\S*)");

    /** A fenced block of the page: its language, the line its first line of content is on, its text. */
    record Block(String language, int line, String text) {
    }

    static List<Block> blocks(String markdown) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        String fence = null;
        String language = null;
        int start = 0;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            Matcher f = FENCE.matcher(lines[i]);
            if (fence == null) {
                if (f.find()) {
                    fence = f.group(1);
                    language = f.group(2);
                    start = i + 2;
                    text.setLength(0);
                }
            } else if (f.find() && f.group(1).charAt(0) == fence.charAt(0) && f.group(1).length() >= fence.length()
                    && f.group(2).isEmpty()) {
                blocks.add(new Block(language, start, text.toString()));
                fence = null;
            } else {
                text.append(lines[i]).append('\n');
            }
        }
        return blocks;
    }

    @Test
    void everyYamlBlockOfTheGuideLoads() throws Exception {
        List<Block> yaml = blocks(Files.readString(GUIDE)).stream().filter(b -> b.language().equals("yaml")).toList();
        assertThat(yaml).as("the report-mode file, the reviewed file and the refusing one").hasSizeGreaterThanOrEqualTo(3);
        List<EgressConfig> loaded = new ArrayList<>();
        for (Block b : yaml) {
            try {
                String name = "docs/per-namespace-egress.md (the block from line " + b.line() + ")";
                loaded.add(ConfigLoader.parse(name, b.text()));
            } catch (ConfigException e) {
                throw new AssertionError(e.getMessage() + "\n" + b.text(), e);
            }
        }
        assertThat(loaded).allSatisfy(c -> assertThat(c.identity().kubernetes()).as("every file names pods").isNotNull());
        assertThat(loaded.get(0).policy().mode()).hasToString("REPORT");
        assertThat(loaded).anySatisfy(c -> assertThat(c.policy().roles()).anySatisfy(r ->
                assertThat(r.workloads()).isNotEmpty()));
        assertThat(loaded.get(loaded.size() - 1).identity().kubernetes().unknownClient())
                .isEqualTo(EgressConfig.UnknownClient.REFUSE);
    }

    @Test
    void theBlockReaderFindsBlocksAsGithubRendersThem() {
        String page = "text\n```yaml\na: 1\n```\n\n````sh\n```yaml\nnot: a block\n```\n````\n  ```yaml\nb: 2\n  ```\n";
        assertThat(blocks(page)).containsExactly(new Block("yaml", 3, "a: 1\n"),
                new Block("sh", 7, "```yaml\nnot: a block\n```\n"), new Block("yaml", 12, "b: 2\n"));
    }
}
