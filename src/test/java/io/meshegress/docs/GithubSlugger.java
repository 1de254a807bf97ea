package io.meshegress.docs;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The anchors GitHub gives a Markdown file's headings, per its documented rule (GitHub Docs, "Basic writing and
 * formatting syntax", section links): letters lower-cased, each space a hyphen, other punctuation dropped,
 * markup removed, and a repeated anchor suffixed -1, -2, ... in document order. The characters kept are
 * those of html-pipeline's TableOfContentsFilter, {@code [^\p{Word}\- ]} in Ruby: letters, marks, decimal and
 * letter numbers, connector punctuation ({@code _}), hyphens and spaces. One instance per document.
 */
final class GithubSlugger {
    private static final Pattern DROPPED = Pattern.compile("[^\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}\\- ]");
    private final Map<String, Integer> seen = new HashMap<>();

    /** The anchor of the next heading whose rendered text is {@code text}. */
    String slug(String text) {
        String base = DROPPED.matcher(text.strip().toLowerCase(Locale.ROOT)).replaceAll("").replace(' ', '-');
        int count = seen.merge(base, 1, Integer::sum) - 1;
        return count == 0 ? base : base + "-" + count;
    }
}
