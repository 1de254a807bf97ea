package io.meshegress.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Checks that every relative link of the Markdown files under a root names a file there, and its anchor a heading. */
final class RelativeLinks {
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");
    private final Path root;
    private final Map<Path, MarkdownFile> parsed = new HashMap<>();

    RelativeLinks(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The Markdown files of the tree, leaving out build output and hidden directories (.git, caches). */
    List<Path> markdownFiles() throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".md"))
                    .filter(p -> Files.isRegularFile(p))
                    .filter(p -> {
                        for (Path part : root.relativize(p)) {
                            String name = part.toString();
                            if (name.startsWith(".") || name.equals("target") || name.equals("node_modules")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted()
                    .toList();
        }
    }

    /** One line per broken link of {@code file}: {@code path:line: target: why}. */
    List<String> problems(Path file) {
        List<String> problems = new ArrayList<>();
        for (MarkdownFile.Link link : parse(file).links()) {
            String why = problem(file, link.target());
            if (why != null) {
                problems.add(root.relativize(file) + ":" + link.line() + ": " + link.target() + ": " + why);
            }
        }
        return problems;
    }

    /** The links of {@code file} that leave the repository (a URL with a scheme). */
    List<String> externalLinks(Path file) {
        return parse(file).links().stream().map(MarkdownFile.Link::target).filter(t -> SCHEME.matcher(t).find())
                .toList();
    }

    private String problem(Path file, String target) {
        if (SCHEME.matcher(target).find()) {
            return null;
        }
        if (target.isEmpty()) {
            return "an empty link";
        }
        int hash = target.indexOf('#');
        String path = URLDecoder.decode(hash < 0 ? target : target.substring(0, hash), StandardCharsets.UTF_8);
        String anchor = hash < 0 ? null : URLDecoder.decode(target.substring(hash + 1), StandardCharsets.UTF_8);
        Path resolved = path.isEmpty() ? file : (path.startsWith("/") ? root.resolve(path.substring(1))
                : file.getParent().resolve(path)).normalize();
        if (!resolved.startsWith(root)) {
            return "leaves the repository";
        }
        if (!Files.exists(resolved)) {
            return "no such file " + root.relativize(resolved);
        }
        if (anchor == null) {
            return null;
        }
        if (!resolved.getFileName().toString().endsWith(".md") || !Files.isRegularFile(resolved)) {
            return "an anchor into a file that is not Markdown";
        }
        if (!parse(resolved).anchors().contains(anchor)) {
            return "no heading of " + root.relativize(resolved) + " has the anchor #" + anchor;
        }
        return null;
    }

    private MarkdownFile parse(Path file) {
        return parsed.computeIfAbsent(file, f -> {
            try {
                return MarkdownFile.parse(Files.readString(f));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
