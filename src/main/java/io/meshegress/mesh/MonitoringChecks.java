package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Prometheus Operator's objects, checked by the rules its CRDs and controller apply (no official schema of
 * theirs is shipped with this project, so the shape is checked here field by field): a ServiceMonitor needs a
 * selector and endpoints that name a port, a PrometheusRule groups with names and rules with an alert or record
 * name and an expression. Across objects: the ServiceMonitor's selector must select a generated Service whose
 * ports include the endpoint's port name. (promtool checks the rules themselves in the tests.)
 */
final class MonitoringChecks {
    static final String API = "monitoring.coreos.com/v1";

    private MonitoringChecks() {
    }

    static boolean covers(String apiVersion) {
        return apiVersion.equals(API);
    }

    static void check(ObjectNode o, String id, List<String> problems) {
        JsonNode spec = o.path("spec");
        switch (o.path("kind").asText()) {
            case "ServiceMonitor" -> {
                if (!spec.path("selector").path("matchLabels").isObject() || spec.path("selector").path("matchLabels").isEmpty()) {
                    problems.add(id + ": /spec/selector: needs matchLabels (an empty selector selects every Service)");
                }
                if (!spec.path("endpoints").isArray() || spec.path("endpoints").isEmpty()) {
                    problems.add(id + ": /spec/endpoints: at least one");
                }
                spec.path("endpoints").forEach(e -> {
                    if (e.path("port").asText("").isEmpty()) {
                        problems.add(id + ": /spec/endpoints: an endpoint needs a port name");
                    }
                });
            }
            case "PrometheusRule" -> {
                if (!spec.path("groups").isArray() || spec.path("groups").isEmpty()) {
                    problems.add(id + ": /spec/groups: at least one");
                }
                spec.path("groups").forEach(g -> {
                    if (g.path("name").asText("").isEmpty()) {
                        problems.add(id + ": /spec/groups: a group needs a name");
                    }
                    g.path("rules").forEach(r -> {
                        boolean named = !r.path("alert").asText("").isEmpty() ^ !r.path("record").asText("").isEmpty();
                        if (!named || r.path("expr").asText("").isBlank()) {
                            problems.add(id + ": /spec/groups/" + g.path("name").asText() + ": a rule needs exactly one "
                                    + "of alert and record, and an expr");
                        }
                    });
                });
            }
            default -> problems.add(id + ": not a kind of " + API + " this project writes");
        }
    }

    static List<String> crossObject(List<ObjectNode> objects) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode m : objects) {
            if (!m.path("kind").asText().equals("ServiceMonitor")) {
                continue;
            }
            JsonNode labels = m.path("spec").path("selector").path("matchLabels");
            boolean found = false;
            for (ObjectNode s : objects) {
                if (!s.path("kind").asText().equals("Service") || !matches(labels, s.path("metadata").path("labels"))) {
                    continue;
                }
                found = true;
                for (JsonNode e : m.path("spec").path("endpoints")) {
                    boolean hasPort = false;
                    for (JsonNode p : s.path("spec").path("ports")) {
                        hasPort |= p.path("name").asText().equals(e.path("port").asText());
                    }
                    if (!hasPort) {
                        problems.add("ServiceMonitor " + m.path("metadata").path("name").asText() + ": Service "
                                + s.path("metadata").path("name").asText() + " has no port named " + e.path("port"));
                    }
                }
                String job = m.path("spec").path("jobLabel").asText("");
                if (!job.isEmpty() && s.path("metadata").path("labels").path(job).isMissingNode()) {
                    problems.add("ServiceMonitor " + m.path("metadata").path("name").asText() + ": jobLabel " + job
                            + " is not a label of Service " + s.path("metadata").path("name").asText());
                }
            }
            if (!found) {
                problems.add("ServiceMonitor " + m.path("metadata").path("name").asText() + ": selects no generated Service");
            }
        }
        return problems;
    }

    private static boolean matches(JsonNode selector, JsonNode labels) {
        for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!labels.path(e.getKey()).asText("\u0000").equals(e.getValue().asText())) {
                return false;
            }
        }
        return true;
    }
}
