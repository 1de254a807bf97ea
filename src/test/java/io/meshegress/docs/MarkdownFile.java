package io.meshegress.docs;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the documentation tests need of a Markdown file, read the way GitHub renders it: the anchors of its
 * headings and the targets of its links and images, both outside fenced code blocks and code spans.
 */
record MarkdownFile(Set<String> anchors, List<Link> links) {
    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})");
    private static final Pattern ATX_HEADING = Pattern.compile("^ {0,3}#{1,6}[ \\t]+(.*?)(?:[ \\t]+#+)?[ \\t]*$");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(.+?)\\1");
    private static final Pattern INLINE_LINK = Pattern.compile("!?\\[((?:[^\\[\\]]|\\[[^\\]]*])*)]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^ {0,3}\\[[^\\]]+]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:name|id)=\"([^\"]+)\"");
    private static final Pattern EMPHASIS = Pattern.compile("(?<![\\p{L}\\p{N}])[*_]+|[*_]+(?![\\p{L}\\p{N}])|\\*+");

    /** A link's target as written, and the line it is on. */
    record Link(String target, int line) {
    }

    static MarkdownFile parse(String text) {
        GithubSlugger slugger = new GithubSlugger();
        Set<String> anchors = new LinkedHashSet<>();
        List<Link> links = new ArrayList<>();
        String fence = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            Matcher f = FENCE.matcher(line);
            if (fence != null) {
                if (f.find() && f.group(1).charAt(0) == fence.charAt(0) && f.group(1).length() >= fence.length()) {
                    fence = null;
                }
                continue;
            }
            if (f.find()) {
                fence = f.group(1);
                continue;
            }
            Matcher h = ATX_HEADING.matcher(line);
            if (h.matches()) {
                anchors.add(slugger.slug(renderedText(h.group(1))));
            }
            Matcher a = HTML_ANCHOR.matcher(line);
            while (a.find()) {
                anchors.add(a.group(1));
            }
            String prose = CODE_SPAN.matcher(line).replaceAll(m -> "\u0000".repeat(m.group().length()));
            Matcher l = INLINE_LINK.matcher(prose);
            while (l.find()) {
                links.add(new Link(l.group(2), i + 1));
            }
            Matcher r = REFERENCE_DEFINITION.matcher(prose);
            if (r.matches()) {
                links.add(new Link(r.group(1), i + 1));
            }
        }
        return new MarkdownFile(Set.copyOf(anchors), List.copyOf(links));
    }

    /** A heading's text as rendered: code spans keep their content, links their text, emphasis loses its marks. */
    static String renderedText(String heading) {
        StringBuilder out = new StringBuilder();
        Matcher code = CODE_SPAN.matcher(heading);
        int last = 0;
        while (code.find()) {
            out.append(plain(heading.substring(last, code.start()))).append(code.group(2).strip());
            last = code.end();
        }
        return out.append(plain(heading.substring(last))).toString();
    }

    private static String plain(String markup) {
        String text = INLINE_LINK.matcher(markup).replaceAll(m -> Matcher.quoteReplacement(m.group(1)));
        return EMPHASIS.matcher(text).replaceAll("");
    }
}
