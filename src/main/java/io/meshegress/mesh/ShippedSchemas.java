package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The official schemas in the jar (see schemas/README.md for their origins): Kubernetes 1.34's JSON schemas and
 * Istio 1.29's CRDs, each made strict as the API server's pruning is.
 */
final class ShippedSchemas {
    private static final String SCHEMAS = "/io/meshegress/mesh/schemas/";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> COMBINATORS = Set.of("anyOf", "oneOf", "allOf", "not");

    private ShippedSchemas() {
    }

    static Map<String, Schema> kubernetesAndIstio() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4);
        Map<String, Schema> out = new HashMap<>();
        String[][] kube = {
                {"v1/Service", "service-v1.json"}, {"v1/Endpoints", "endpoints-v1.json"},
                {"v1/ConfigMap", "configmap-v1.json"}, {"apps/v1/Deployment", "deployment-apps-v1.json"},
                {"discovery.k8s.io/v1/EndpointSlice", "endpointslice-discovery-v1.json"},
                {"policy/v1/PodDisruptionBudget", "poddisruptionbudget-policy-v1.json"},
                {"autoscaling/v2/HorizontalPodAutoscaler", "horizontalpodautoscaler-autoscaling-v2.json"},
                {"networking.k8s.io/v1/NetworkPolicy", "networkpolicy-networking-v1.json"}};
        for (String[] k : kube) {
            ObjectNode schema = (ObjectNode) read(k[1]);
            schema.remove("$schema");
            out.put(k[0], registry.getSchema(strict(schema)));
        }
        for (JsonNode crd : crds("istio-crd-all.gen.yaml")) {
            String group = crd.path("spec").path("group").asText();
            String kind = crd.path("spec").path("names").path("kind").asText();
            if (!group.equals("networking.istio.io") || !(kind.equals("ServiceEntry") || kind.equals("VirtualService")
                    || kind.equals("DestinationRule") || kind.equals("Sidecar"))) {
                continue;
            }
            out.put("networking.istio.io/v1/" + kind, registry.getSchema(strict(specSchema(crd, "v1"))));
        }
        return Map.copyOf(out);
    }

    private static ObjectNode specSchema(JsonNode crd, String version) {
        for (JsonNode v : crd.path("spec").path("versions")) {
            if (v.path("name").asText().equals(version)) {
                return (ObjectNode) v.path("schema").path("openAPIV3Schema").path("properties").path("spec").deepCopy();
            }
        }
        throw new IllegalStateException(crd.path("metadata").path("name").asText() + " has no version " + version);
    }

    private static List<JsonNode> crds(String name) {
        try (InputStream in = resource(name); YAMLParser parser = new YAMLFactory().createParser(in)) {
            return YAML.readValues(parser, JsonNode.class).readAll();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the CRDs " + name + " in the jar", e);
        }
    }

    private static JsonNode read(String name) {
        try (InputStream in = resource(name)) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema " + name + " in the jar", e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = ShippedSchemas.class.getResourceAsStream(SCHEMAS + name);
        if (in == null) {
            throw new IOException(SCHEMAS + name + " is missing from the jar");
        }
        return in;
    }

    /**
     * What openapi2jsonschema's --strict does and the API server's pruning amounts to: an object schema that
     * lists its properties admits no others. Not the branches of anyOf/oneOf, which only state which listed
     * properties are required together.
     */
    static JsonNode strict(JsonNode schema) {
        return strict(schema, false);
    }

    private static JsonNode strict(JsonNode schema, boolean branch) {
        if (schema instanceof ObjectNode) {
            ObjectNode o = (ObjectNode) schema;
            if (!branch && o.has("properties") && !o.has("additionalProperties")
                    && !o.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
                o.put("additionalProperties", false);
            }
            Iterator<Map.Entry<String, JsonNode>> children = o.fields();
            while (children.hasNext()) {
                Map.Entry<String, JsonNode> e = children.next();
                if (COMBINATORS.contains(e.getKey()) && e.getValue() instanceof ArrayNode) {
                    e.getValue().forEach(b -> strict(b, true));
                } else {
                    strict(e.getValue(), false);
                }
            }
        } else if (schema instanceof ArrayNode) {
            schema.forEach(s -> strict(s, false));
        }
        return schema;
    }
}
