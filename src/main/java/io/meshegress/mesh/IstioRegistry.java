package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a sidecar of a namespace knows, as Istio defines it (docs: Sidecar, ServiceEntry, VirtualService,
 * exportTo): objects visible to the namespace by their exportTo (a Service's by its
 * {@code networking.istio.io/exportTo} annotation, the mesh's default when there is none) and imported by its
 * Sidecar; hosts matched the Istio way (a wildcard {@code *.a.b} matches names below a.b, not a.b).
 */
final class IstioRegistry {
    private final List<? extends JsonNode> objects;
    private final MeshSimulation.Visibility visibility;

    IstioRegistry(List<? extends JsonNode> objects, MeshSimulation.Visibility visibility) {
        this.objects = objects;
        this.visibility = visibility;
    }

    JsonNode sidecarOf(String ns) {
        for (JsonNode s : objects.stream().filter(o -> o.path("kind").asText().equals("Sidecar")).toList()) {
            if (s.path("metadata").path("namespace").asText().equals(ns) && !s.path("spec").has("workloadSelector")) {
                return s;
            }
        }
        return null;
    }

    /** Visible to {@code ns} (exportTo) and imported by its Sidecar. */
    boolean known(JsonNode object, String objectNs, String ns, JsonNode sidecar) {
        if (object == null) {
            return false;
        }
        List<String> exportTo = new ArrayList<>();
        if (object.path("kind").asText().equals("Service")) {
            String a = object.path("metadata").path("annotations").path("networking.istio.io/exportTo").asText("");
            for (String e : a.split(",")) {
                if (!e.isBlank()) {
                    exportTo.add(e.strip());
                }
            }
        } else {
            object.path("spec").path("exportTo").forEach(e -> exportTo.add(e.asText()));
        }
        if (exportTo.isEmpty()) {
            exportTo.add(visibility == MeshSimulation.Visibility.ALL ? "*" : ".");
        }
        boolean visible = exportTo.contains("*") || exportTo.contains(ns) || (exportTo.contains(".")
                && objectNs.equals(ns));
        if (!visible || sidecar == null) {
            return visible;
        }
        for (JsonNode egress : sidecar.path("spec").path("egress")) {
            for (JsonNode h : egress.path("hosts")) {
                String imported = h.asText().split("/")[0];
                if (imported.equals("*") || imported.equals(objectNs) || (imported.equals(".") && objectNs.equals(ns))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The ServiceEntry port's protocol when it holds the host and the port, else null. */
    static String entryPort(JsonNode se, String host, int port) {
        if (!anyMatch(se.path("spec").path("hosts"), host)) {
            return null;
        }
        for (JsonNode p : se.path("spec").path("ports")) {
            if (p.path("number").asInt() == port) {
                return p.path("protocol").asText();
            }
        }
        return null;
    }

    static Optional<JsonNode> route(JsonNode vs, String protocol, String host, int port) {
        String section = protocol.equals("HTTP") ? "http" : "tls";
        for (JsonNode r : vs.path("spec").path(section)) {
            for (JsonNode m : r.path("match")) {
                boolean sni = section.equals("http") || anyMatch(m.path("sniHosts"), host);
                if (m.path("port").asInt() == port && sni) {
                    return Optional.of(r.path("route").get(0).path("destination"));
                }
            }
        }
        return Optional.empty();
    }

    static boolean anyMatch(JsonNode patterns, String host) {
        for (JsonNode p : patterns) {
            String pattern = p.asText();
            if (pattern.equals(host) || (pattern.startsWith("*.") && host.endsWith(pattern.substring(1)))) {
                return true;
            }
        }
        return false;
    }

}
