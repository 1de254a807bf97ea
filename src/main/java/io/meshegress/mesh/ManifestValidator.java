package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import io.meshegress.policy.HostPattern;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks generated objects the way a cluster would: against the official schemas ({@link ShippedSchemas}:
 * Kubernetes 1.34 JSON schemas, Istio 1.29 CRDs), made strict so that an unknown or misspelt field is an error, plus the
 * rules the API server enforces outside the schemas (CEL validations, name formats, uniqueness) and the cross-object
 * consistency that makes the routes work (every route's port exists on the proxy Service, and so on). The kinds with
 * no official schema shipped (Cilium's, the Prometheus Operator's, and the ServiceAccount and RBAC objects of
 * identity.kubernetes) are checked field by field ({@link CiliumChecks}, {@link MonitoringChecks},
 * {@link RbacChecks}).
 */
public final class ManifestValidator {
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");
    private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    private final Map<String, Schema> schemas;

    private ManifestValidator(Map<String, Schema> schemas) {
        this.schemas = Map.copyOf(schemas);
    }

    /**
     * The validator for the schemas shipped in the jar. Reading them costs most of a second, so they are read
     * once per process, on first use, by the JVM's class initialization (immutable, no lock, no mutable field).
     */
    public static ManifestValidator load() {
        return Shipped.VALIDATOR;
    }

    private static final class Shipped {
        static final ManifestValidator VALIDATOR = new ManifestValidator(ShippedSchemas.kubernetesAndIstio());
    }

    /** Every problem with every object, each as one line that names the object and the field. */
    public List<String> validate(List<ObjectNode> objects) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode o : objects) {
            problems.addAll(validate(o));
        }
        problems.addAll(crossObject(objects));
        problems.addAll(MonitoringChecks.crossObject(objects));
        return problems;
    }

    /** Schema and API-server rules for one object. */
    public List<String> validate(ObjectNode o) {
        String apiVersion = o.path("apiVersion").asText();
        String kind = o.path("kind").asText();
        String name = o.path("metadata").path("name").asText();
        String id = kind + " " + name;
        List<String> problems = new ArrayList<>();
        Schema schema = schemas.get(apiVersion + "/" + kind);
        if (schema == null && CiliumChecks.covers(apiVersion, kind)) {
            metadata(o, id, false, problems);
            CiliumChecks.check(o, id, problems);
            return problems;
        }
        if (schema == null && RbacChecks.covers(apiVersion, kind)) {
            metadata(o, id, false, problems);
            RbacChecks.check(o, id, problems);
            return problems;
        }
        if (schema == null && MonitoringChecks.covers(apiVersion)) {
            metadata(o, id, false, problems);
            MonitoringChecks.check(o, id, problems);
            return problems;
        }
        if (schema == null) {
            problems.add(id + ": no schema for " + apiVersion + " " + kind);
            return problems;
        }
        // Istio's CRD schemas describe spec; the envelope is checked by the rules below.
        boolean istio = apiVersion.startsWith("networking.istio.io/");
        JsonNode instance = istio ? o.path("spec") : o;
        for (Error e : schema.validate(instance)) {
            String where = e.getInstanceLocation().toString().replaceFirst("^\\$", "");
            if (where.equals("/")) {
                where = "";
            }
            if (istio) {
                where = "/spec" + where;
            }
            problems.add(id + ": " + (where.isEmpty() ? "/" : where) + ": " + e.getMessage());
        }
        metadata(o, id, istio, problems);
        switch (kind) {
            case "Service" -> service(o, id, problems);
            case "Deployment" -> deployment(o, id, problems);
            case "ServiceEntry" -> serviceEntry(o, id, problems);
            case "VirtualService" -> virtualService(o, id, problems);
            default -> { }
        }
        return problems;
    }

    private static void metadata(ObjectNode o, String id, boolean istio, List<String> problems) {
        JsonNode meta = o.path("metadata");
        String name = meta.path("name").asText("");
        boolean service = o.path("kind").asText().equals("Service");
        Pattern p = service ? DNS1035_LABEL : DNS1123_SUBDOMAIN;
        int max = service || istio ? 63 : 253;
        if (name.isEmpty() || name.length() > max || !p.matcher(name).matches()) {
            problems.add(id + ": /metadata/name: \"" + name + "\" is not a valid "
                    + (service ? "DNS-1035 label" : "DNS-1123 name") + " of at most " + max + " characters");
        }
        String ns = meta.path("namespace").asText("");
        if (!ns.isEmpty() && (ns.length() > 63 || !DNS1123_LABEL.matcher(ns).matches())) {
            problems.add(id + ": /metadata/namespace: \"" + ns + "\" is not a valid namespace");
        }
        if (istio && (o.has("status") || !o.has("spec"))) {
            problems.add(id + ": an Istio object needs a spec and no status");
        }
        meta.path("labels").fields().forEachRemaining(e -> {
            String v = e.getValue().asText();
            if (v.length() > 63 || !LABEL_VALUE.matcher(v).matches()) {
                problems.add(id + ": /metadata/labels/" + e.getKey() + ": \"" + v + "\" is not a valid label value");
            }
        });
    }

    private static void service(ObjectNode o, String id, List<String> problems) {
        JsonNode ports = o.path("spec").path("ports");
        Set<String> names = new HashSet<>();
        Set<Integer> numbers = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            JsonNode p = ports.get(i);
            String name = p.path("name").asText("");
            if (ports.size() > 1 && (name.isEmpty() || name.length() > 63 || !DNS1123_LABEL.matcher(name).matches())) {
                problems.add(id + ": /spec/ports/" + i + "/name: \"" + name + "\" is not a valid port name");
            }
            if (!names.add(name)) {
                problems.add(id + ": /spec/ports/" + i + "/name: \"" + name + "\" is duplicated");
            }
            if (!numbers.add(p.path("port").asInt())) {
                problems.add(id + ": /spec/ports/" + i + "/port: " + p.path("port").asInt() + " is duplicated");
            }
            inRange(p.path("port"), id + ": /spec/ports/" + i + "/port", problems);
            if (p.path("targetPort").isInt()) {
                inRange(p.path("targetPort"), id + ": /spec/ports/" + i + "/targetPort", problems);
            }
        }
    }

    private static void deployment(ObjectNode o, String id, List<String> problems) {
        JsonNode containers = o.path("spec").path("template").path("spec").path("containers");
        for (int c = 0; c < containers.size(); c++) {
            JsonNode ports = containers.get(c).path("ports");
            for (int i = 0; i < ports.size(); i++) {
                String name = ports.get(i).path("name").asText("");
                if (!name.isEmpty() && (name.length() > 15 || !IANA_SVC_NAME.matcher(name).matches()
                        || name.contains("--") || name.chars().noneMatch(Character::isLetter))) {
                    problems.add(id + ": /spec/template/spec/containers/" + c + "/ports/" + i + "/name: \"" + name
                            + "\" is not a valid container port name (at most 15 characters)");
                }
            }
        }
        JsonNode selector = o.path("spec").path("selector").path("matchLabels");
        JsonNode labels = o.path("spec").path("template").path("metadata").path("labels");
        selector.fields().forEachRemaining(e -> {
            if (!e.getValue().equals(labels.path(e.getKey()))) {
                problems.add(id + ": /spec/selector: does not match the pod template's labels");
            }
        });
    }

    private static void serviceEntry(ObjectNode o, String id, List<String> problems) {
        JsonNode spec = o.path("spec");
        for (JsonNode h : spec.path("hosts")) {
            if (h.asText().equals("*")) {
                problems.add(id + ": /spec/hosts: hostname cannot be wildcard");
            }
        }
        Set<Integer> numbers = new HashSet<>();
        Set<String> names = new HashSet<>();
        JsonNode ports = spec.path("ports");
        for (int i = 0; i < ports.size(); i++) {
            if (!numbers.add(ports.get(i).path("number").asInt())) {
                problems.add(id + ": /spec/ports/" + i + ": port number cannot be duplicated");
            }
            if (!names.add(ports.get(i).path("name").asText())) {
                problems.add(id + ": /spec/ports/" + i + ": port name must be unique");
            }
            inRange(ports.get(i).path("number"), id + ": /spec/ports/" + i + "/number", problems);
        }
        if (spec.path("resolution").asText("NONE").equals("NONE") && spec.has("endpoints")) {
            problems.add(id + ": /spec: NONE mode cannot set endpoints");
        }
    }

    private static void virtualService(ObjectNode o, String id, List<String> problems) {
        JsonNode spec = o.path("spec");
        List<HostPattern> hosts = new ArrayList<>();
        for (JsonNode h : spec.path("hosts")) {
            hosts.add(HostPattern.parse(h.asText()));
        }
        JsonNode tls = spec.path("tls");
        for (int i = 0; i < tls.size(); i++) {
            JsonNode matches = tls.get(i).path("match");
            for (int j = 0; j < matches.size(); j++) {
                Set<String> seen = new HashSet<>();
                for (JsonNode sni : matches.get(j).path("sniHosts")) {
                    if (!seen.add(sni.asText())) {
                        problems.add(id + ": /spec/tls/" + i + "/match/" + j + "/sniHosts: \"" + sni.asText()
                                + "\" is listed twice");
                    }
                    if (!withinHosts(HostPattern.parse(sni.asText()), hosts)) {
                        problems.add(id + ": /spec/tls/" + i + "/match/" + j + "/sniHosts: \"" + sni.asText()
                                + "\" is not within the VirtualService's hosts");
                    }
                }
            }
        }
    }

    /** An SNI value must fall within the domain of one of the VirtualService's hosts. */
    static boolean withinHosts(HostPattern sni, List<HostPattern> hosts) {
        for (HostPattern h : hosts) {
            if (h.kind() == HostPattern.Kind.ANY || h.equals(sni)) {
                return true;
            }
            if (h.kind() == HostPattern.Kind.SUFFIX) {
                String name = sni.kind() == HostPattern.Kind.SUFFIX ? "x." + sni.value() : sni.value();
                if (h.matches(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void inRange(JsonNode port, String where, List<String> problems) {
        int n = port.asInt();
        if (n < 1 || n > 65535) {
            problems.add(where + ": " + n + " is not a port (1-65535)");
        }
    }

    /** Routes must land on ports the proxy Service has, and Endpoints must serve every Service port. */
    static List<String> crossObject(List<ObjectNode> objects) {
        List<String> problems = new ArrayList<>();
        Map<String, JsonNode> byKindName = new HashMap<>();
        for (ObjectNode o : objects) {
            byKindName.put(o.path("kind").asText() + "/" + o.path("metadata").path("name").asText(), o);
        }
        JsonNode service = byKindName.get("Service/" + ManifestGenerator.NAME);
        if (service == null) {
            problems.add("Service " + ManifestGenerator.NAME + ": missing");
            return problems;
        }
        String fqdn = ManifestGenerator.NAME + "." + service.path("metadata").path("namespace").asText()
                + ".svc.cluster.local";
        Set<Integer> servicePorts = new HashSet<>();
        Set<String> servicePortNames = new HashSet<>();
        service.path("spec").path("ports").forEach(p -> {
            servicePorts.add(p.path("port").asInt());
            servicePortNames.add(p.path("name").asText());
        });
        for (ObjectNode o : objects) {
            if (!o.path("kind").asText().equals("VirtualService")) {
                continue;
            }
            String id = "VirtualService " + o.path("metadata").path("name").asText();
            for (String section : new String[] {"http", "tls"}) {
                for (JsonNode route : o.path("spec").path(section)) {
                    for (JsonNode r : route.path("route")) {
                        JsonNode dest = r.path("destination");
                        if (!dest.path("host").asText().equals(fqdn)) {
                            problems.add(id + ": routes to " + dest.path("host").asText() + ", not the proxy " + fqdn);
                        }
                        if (!servicePorts.contains(dest.path("port").path("number").asInt())) {
                            problems.add(id + ": routes to port " + dest.path("port").path("number").asInt()
                                    + ", which the proxy Service does not have");
                        }
                    }
                }
            }
        }
        JsonNode endpoints = byKindName.get("Endpoints/" + ManifestGenerator.NAME);
        if (endpoints != null) {
            Set<String> served = new HashSet<>();
            endpoints.path("subsets").forEach(s -> s.path("ports").forEach(p -> served.add(p.path("name").asText())));
            for (String n : servicePortNames) {
                if (!served.contains(n)) {
                    problems.add("Endpoints " + ManifestGenerator.NAME + ": no port named " + n + " for the Service");
                }
            }
        }
        return problems;
    }
}
