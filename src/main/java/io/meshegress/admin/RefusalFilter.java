package io.meshegress.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.meshegress.observe.AccessEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The status page's refusals filter and {@code /refusals}: a case-blind substring of any field shown (the client's
 * namespace too; its pod's name is not shown, so not searched).
 */
final class RefusalFilter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RefusalFilter() {
    }

    static List<AccessEntry> apply(List<AccessEntry> refusals, String filter) {
        if (filter == null || filter.isBlank()) {
            return refusals;
        }
        String f = filter.strip().toLowerCase(Locale.ROOT);
        List<AccessEntry> out = new ArrayList<>();
        for (AccessEntry e : refusals) {
            String all = String.join("\n", e.time().toString(), String.valueOf(e.client()), String.valueOf(e.host()),
                    Integer.toString(e.port()), e.listener(), String.valueOf(e.role()), String.valueOf(e.reason()),
                    Integer.toString(e.status()), String.valueOf(e.alert()), e.kind(),
                    e.workload() == null ? "" : e.workload().namespace()).toLowerCase(Locale.ROOT);
            if (all.contains(f)) {
                out.add(e);
            }
        }
        return out;
    }

    static String json(List<AccessEntry> refusals) {
        ArrayNode a = JSON.createArrayNode();
        for (AccessEntry e : refusals) {
            a.addObject().put("time", e.time().toString()).put("client", e.client()).put("host", e.host())
                    .put("port", e.port()).put("listener", e.listener()).put("kind", e.kind()).put("role", e.role())
                    .put("rule", e.reason()).put("status", e.status()).put("alert", e.alert())
                    .put("namespace", e.workload() == null ? null : e.workload().namespace());
        }
        return a.toString();
    }
}
