package io.meshegress.admin;

import io.meshegress.observe.AccessEntry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The status page's refusals by namespace: how many of the kept refusals came from pods of each namespace (the
 * page's "which team is being refused?"). Counted from the refusals the page keeps, never from metrics: metric
 * labels stay bounded (no namespace, no pod).
 */
final class RefusalCount {
    private RefusalCount() {
    }

    /** @param namespace null for the clients that were no known pod */
    record ByNamespace(String namespace, long count) {
    }

    /** Most refused first; a tie in namespace order, with the clients that were no pod last. */
    static List<ByNamespace> byNamespace(List<AccessEntry> refusals) {
        Map<String, Long> counts = new HashMap<>();
        long noPod = 0;
        for (AccessEntry e : refusals) {
            if (e.workload() == null) {
                noPod++;
            } else {
                counts.merge(e.workload().namespace(), 1L, Long::sum);
            }
        }
        List<ByNamespace> out = new ArrayList<>();
        counts.forEach((ns, n) -> out.add(new ByNamespace(ns, n)));
        out.sort(Comparator.comparingLong(ByNamespace::count).reversed().thenComparing(ByNamespace::namespace));
        if (noPod > 0) {
            out.add(new ByNamespace(null, noPod));
        }
        return out;
    }
}
