package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every relative link and anchor in the repository's Markdown resolves, and the README links nothing outside. */
class DocumentationLinksTest {
    static final Path REPOSITORY = Path.of("").toAbsolutePath();

    @Test
    void everyRelativeLinkAndAnchorOfEveryMarkdownFileResolves() throws IOException {
        assertThat(REPOSITORY.resolve("pom.xml")).as("the tests run in the repository").exists();
        RelativeLinks links = new RelativeLinks(REPOSITORY);
        List<Path> files = links.markdownFiles();
        assertThat(files).extracting(f -> REPOSITORY.relativize(f).toString())
                .contains("README.md", "CHANGELOG.md", "ARCHITECTURE.md", "docs/configuration.md", "bench/README.md");
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            problems.addAll(links.problems(file));
        }
        assertThat(problems).as("broken links").isEmpty();
    }

    @Test
    void theReadmeLinksNothingOutsideTheRepository() throws IOException {
        assertThat(new RelativeLinks(REPOSITORY).externalLinks(REPOSITORY.resolve("README.md"))).isEmpty();
    }

    @Test
    void brokenLinksAndAnchorsAreReportedWithTheirLine(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("docs"));
        Files.writeString(dir.resolve("README.md"), """
                # Title

                See [the page](docs/page.md#its-part), [a missing one](docs/missing.md) and [a part](#no-such-part).
                ```sh
                [not a link](nowhere.md) in a code block
                ```
                `[not a link either](nowhere.md)` and [out](../elsewhere.md) and [fine](docs/page.md#a-part-1)
                [ref]: docs/page.md#wrong
                """);
        Files.writeString(dir.resolve("docs/page.md"), "# A part\n\n## A part\n\n## Its part\n");
        RelativeLinks links = new RelativeLinks(dir);

        assertThat(links.problems(dir.resolve("README.md"))).containsExactly(
                "README.md:3: docs/missing.md: no such file docs/missing.md",
                "README.md:3: #no-such-part: no heading of README.md has the anchor #no-such-part",
                "README.md:7: ../elsewhere.md: leaves the repository",
                "README.md:8: docs/page.md#wrong: no heading of docs/page.md has the anchor #wrong");
        assertThat(links.problems(dir.resolve("docs/page.md"))).isEmpty();
    }

    @Test
    void headingsGetGithubsAnchorsWithMarkupRemoved() {
        MarkdownFile file = MarkdownFile.parse("""
                # `http.connectSniCheck` and [links](x.md)
                ## This'll be a _Helpful_ Section
                ## snake_case **bold** stays
                ```
                # not a heading
                ```
                ## Closed heading ##
                """);
        assertThat(file.anchors()).containsExactlyInAnyOrder("httpconnectsnicheck-and-links",
                "thisll-be-a-helpful-section", "snake_case-bold-stays", "closed-heading");
    }
}
