package io.meshegress.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The page's pure parts: what it escapes and what the refusals filter keeps. */
class StatusPageTest {
    static AccessEntry refused(String host, String reason, int status) {
        return new AccessEntry(Instant.parse("2026-12-02T10:00:00Z"), "http 127.0.0.1:8080", "10.1.2.3:5555", null,
                "payments", "connect", host, 443, null, "refused", reason, null, status, null, 0, 0, 0);
    }

    @Test
    void everyCharacterThatMeansSomethingInHtmlIsEscaped() {
        assertThat(StatusPage.esc("<a href=\"x\" onclick='y'>&</a>\u0000\n\u007f"))
                .isEqualTo("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;&#0;&#10;&#127;");
        assertThat(StatusPage.esc(null)).isEmpty();
        assertThat(StatusPage.esc("api.github.com")).isEqualTo("api.github.com");
    }

    static AccessEntry refusedPod(String namespace) {
        return new AccessEntry(Instant.parse("2026-12-02T10:00:00Z"), "http 127.0.0.1:8080", "10.1.2.3:5555", null,
                "default", "connect", "a.test", 443, null, "refused", "refused by policy.allow", null, 403, null, 0, 0,
                0, new AccessEntry.Workload(namespace, "api", "api-7d9f"));
    }

    @Test
    void refusalsAreCountedByNamespaceMostFirstAndClientsThatAreNoPodLast() {
        List<AccessEntry> all = List.of(refusedPod("search"), refused("x.test", "r", 403), refusedPod("payments"),
                refusedPod("search"), refusedPod("batch"));
        assertThat(RefusalCount.byNamespace(all)).containsExactly(new RefusalCount.ByNamespace("search", 2),
                new RefusalCount.ByNamespace("batch", 1), new RefusalCount.ByNamespace("payments", 1),
                new RefusalCount.ByNamespace(null, 1));
        assertThat(RefusalCount.byNamespace(List.of())).isEmpty();
        assertThat(RefusalFilter.apply(all, "BATCH")).hasSize(1);
        assertThat(RefusalFilter.apply(all, "api-7d9f")).as("the pod's name is not shown, so not searched").isEmpty();
    }

    @Test
    void theFilterIsACaseBlindSubstringOfAnyShownField() {
        List<AccessEntry> all = List.of(refused("a.evil.test", "refused by policy.deny[0] \"*.evil.test\"", 403),
                refused("b.example.test", "refused by policy.roles[0].allow (no entry matches)", 403),
                refused(null, "CONNECT needs host:port", 400));
        assertThat(RefusalFilter.apply(all, "POLICY.DENY")).extracting(AccessEntry::host).containsExactly("a.evil.test");
        assertThat(RefusalFilter.apply(all, "400")).extracting(AccessEntry::reason).containsExactly("CONNECT needs host:port");
        assertThat(RefusalFilter.apply(all, "payments")).hasSize(3);
        assertThat(RefusalFilter.apply(all, " ")).hasSize(3);
        assertThat(RefusalFilter.apply(all, "nothing-like-it")).isEmpty();
    }
}
