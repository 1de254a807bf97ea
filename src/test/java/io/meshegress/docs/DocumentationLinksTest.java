package io.meshegress.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

    /** Words of the project's own bookkeeping, which mean nothing to a reader of the user documentation. */
    static final Pattern INTERNAL_WORDS = Pattern.compile("(?i)write-?up|the contract|\\(extension\\b|extensions? (of|to) "
            + "(the|issue)|\\bissue\\s*[\"#0-9]|\\bwave\\b|\\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\\b");

    @Test
    void theUserDocumentationHasNoInternalWords() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(REPOSITORY.resolve("README.md"), REPOSITORY.resolve("CHANGELOG.md"),
                REPOSITORY.resolve("bench/README.md")));
        try (Stream<Path> docs = Files.list(REPOSITORY.resolve("docs"));
                Stream<Path> examples = Files.list(REPOSITORY.resolve("examples"))) {
            Stream.concat(docs, examples).filter(p -> p.toString().endsWith(".md") || p.toString().endsWith(".yaml"))
                    .forEach(pages::add);
        }
        List<String> found = new ArrayList<>();
        for (Path page : pages) {
            List<String> lines = Files.readAllLines(page);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = INTERNAL_WORDS.matcher(lines.get(i));
                while (m.find()) {
                    found.add(REPOSITORY.relativize(page) + ":" + (i + 1) + ": " + m.group());
                }
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void internalWordsAreFoundAndOrdinaryOnesAreNot() {
        for (String internal : List.of("the write-up's setup", "as in the contract", "timeouts.drain (extension)",
                "an extension of issue \"Policy per client\"", "see issue #12", "fixed in 662b1fb", "the second wave")) {
            assertThat(INTERNAL_WORDS.matcher(internal).find()).as(internal).isTrue();
        }
        for (String ordinary : List.of("the TLS extension 0xfe0d", "LimitNOFILE=1048576", "64:ff9b::a9fe:a9fe",
                "a known issue with NAT", "2001:db8::/32", "deadbeef")) {
            assertThat(INTERNAL_WORDS.matcher(ordinary).find()).as(ordinary).isFalse();
        }
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
