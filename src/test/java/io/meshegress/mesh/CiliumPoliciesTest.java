package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mesh.enforce.cni: cilium. The emitted CiliumNetworkPolicies pass the field-by-field checks, and the checks refuse
 * what Cilium's documentation rules out. Expected verdicts come from Cilium's docs, not from the checks:
 * the policy language and layer 3 pages (https://docs.cilium.io/en/stable/security/policy/language/: the entity
 * list all, world, cluster, host, remote-node, kube-apiserver, init, health, unmanaged, ingress, none; a rule uses
 * one method to select its peers) and the layer 4 page (.../security/policy/layer4/: port is a string, a number or
 * a named port; protocol TCP, UDP, SCTP or ANY, "" meaning ANY; ICMP is matched by icmps, not as a port's protocol); selectors are Kubernetes label selectors (operators In, NotIn,
 * Exists, DoesNotExist).
 */
class CiliumPoliciesTest {
    static final String CONFIG = """
            http: {listen: "0.0.0.0:8080"}
            sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
            policy: {allow: ["*.qq.com"]}
            mesh:
              namespace: egress
              proxy: {image: "registry.example.com/mesh-egress:1.0.0"}
              destinations: [{hosts: ["*.qq.com"], tls: [443]}]
              enforce:
                namespaces: [shop]
                cni: cilium
                dns: {addresses: ["169.254.20.10"]}
            """;

    /** A policy as Cilium's docs write one: every field below appears in their examples. */
    private static final String DOCUMENTED = """
            {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
             "metadata": {"name": "documented", "namespace": "shop"},
             "spec": {"description": "a policy from the docs' examples",
               "endpointSelector": {"matchLabels": {"role": "backend"},
                 "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]},
                                      {"key": "tier", "operator": "NotIn", "values": ["db"]},
                                      {"key": "app", "operator": "Exists"},
                                      {"key": "debug", "operator": "DoesNotExist"}]},
               "ingress": [{"fromEndpoints": [{"matchLabels": {"role": "frontend"}}],
                            "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]},
                           {"fromEntities": ["host", "remote-node"]},
                           {"fromCIDR": ["10.0.0.0/8"]},
                           {"fromCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}]}],
               "egress": [{"toEndpoints": [{}]},
                          {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "http"}]}]},
                          {"toCIDR": ["20.1.1.1/32", "2001:db8::/32"]},
                          {"toCIDRSet": [{"cidr": "0.0.0.0/0"}]},
                          {"toFQDNs": [{"matchName": "api.example.com"}, {"matchPattern": "*.example.com"}],
                           "toPorts": [{"ports": [{"port": "443", "protocol": "ANY"}]}]}]}}
            """;

    private static final ObjectMapper JSON = new ObjectMapper();
    private final ManifestValidator v = ManifestValidator.load();

    private static ObjectNode documented() throws Exception {
        return (ObjectNode) JSON.readTree(DOCUMENTED);
    }

    private static ObjectNode at(JsonNode o, String pointer) {
        return (ObjectNode) o.at(pointer);
    }

    @Test
    void ciliumPoliciesInsteadOfNetworkPoliciesPassTheChecks() throws Exception {
        // generate() asserts that the validator finds no problem in any object, the policies included.
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG);
        assertThat(objects).noneMatch(o -> o.path("kind").asText().equals("NetworkPolicy"));
        ObjectNode shop = (ObjectNode) MeshManifestsTest.find(objects, "CiliumNetworkPolicy", "mesh-egress-enforce");
        assertThat(shop.path("spec").toString()).contains("{\"toEntities\":[\"host\"]", "{\"toEntities\":"
                + "[\"kube-apiserver\"]}", "{\"toCIDR\":[\"169.254.20.10/32\"]");
        ObjectNode proxy = (ObjectNode) MeshManifestsTest.find(objects, "CiliumNetworkPolicy", "mesh-egress-proxy");
        assertThat(v.validate(shop)).isEmpty();
        assertThat(v.validate(proxy)).isEmpty();
        assertThat(proxy.path("spec").toString()).contains("toCIDRSet", "fromEntities");
    }

    @Test
    void aPolicyWrittenAsCiliumsDocsWriteItPasses() throws Exception {
        assertThat(v.validate(documented())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"all", "world", "cluster", "host", "remote-node", "kube-apiserver", "init", "health",
            "unmanaged", "ingress", "none"})
    void everyEntityOfCiliumsListIsAccepted(String entity) throws Exception {
        ObjectNode p = documented();
        ((ArrayNode) p.at("/spec/egress/1/toEntities")).removeAll().add(entity);
        assertThat(v.validate(p)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"internet", "World", "kube-api-server", "node", ""})
    void anEntityCiliumDoesNotDefineIsRefused(String entity) throws Exception {
        ObjectNode p = documented();
        ((ArrayNode) p.at("/spec/egress/1/toEntities")).add(entity);
        assertThat(v.validate(p)).singleElement().asString().contains("/spec/egress/1/toEntities/1");
    }

    @Test
    void twoKindsOfPeerInOneRuleAreRefused() throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/egress/0").putArray("toEntities").add("world");
        assertThat(v.validate(p)).singleElement().asString().contains("/spec/egress/0").contains("mutually exclusive");
        ObjectNode q = documented();
        at(q, "/spec/ingress/2").putArray("fromEndpoints").addObject();
        assertThat(v.validate(q)).singleElement().asString().contains("/spec/ingress/2").contains("mutually exclusive");
        // toPorts goes with any one kind of peer.
        assertThat(documented().at("/spec/egress/1").has("toPorts")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/spec|endpointSelectr", "|specs", "/spec/endpointSelector|matchLabel",
            "/spec/egress/0|toEndpoint", "/spec/ingress/0|fromEndpoint", "/spec/ingress/3/fromCIDRSet/0|exept",
            "/spec/ingress/0/toPorts/0|port", "/spec/ingress/0/toPorts/0/ports/0|protocl",
            "/spec/endpointSelector/matchExpressions/0|value", "/spec/egress/4/toFQDNs/0|matchNames",
            "/spec/egress/2|toCidr", "/spec|ingres", "/metadata|label"})
    void aMisspeltFieldAnywhereIsRefused(String where) throws Exception {
        String[] w = where.split("\\|");
        ObjectNode p = documented();
        at(p, w[0]).put(w[1], "x");
        assertThat(v.validate(p)).anySatisfy(s -> assertThat(s).contains(w[0] + "/" + w[1]).contains("unknown field"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"TCP", "UDP", "SCTP", "ANY", ""})
    void theProtocolsCiliumDocumentsAreAccepted(String protocol) throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/ingress/0/toPorts/0/ports/0").put("protocol", protocol);
        assertThat(v.validate(p)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"QUIC", "tcp", "HTTP", "ICMP"})
    void anotherProtocolIsRefused(String protocol) throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/ingress/0/toPorts/0/ports/0").put("protocol", protocol);
        assertThat(v.validate(p)).singleElement().asString().contains("/spec/ingress/0/toPorts/0/ports/0/protocol");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "443", "65535", "http", "http-8080", "dns-tcp"})
    void aPortNumberOrNameIsAccepted(String port) throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/ingress/0/toPorts/0/ports/0").put("port", port);
        assertThat(v.validate(p)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "99999", "123456", "-1", "HTTP", "a-very-long-port-name", ""})
    void aPortOutOfRangeOrNotANameIsRefused(String port) throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/ingress/0/toPorts/0/ports/0").put("port", port);
        assertThat(v.validate(p)).singleElement().asString().contains("/spec/ingress/0/toPorts/0/ports/0/port");
    }

    @Test
    void aPortIsAStringNotANumber() throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/ingress/0/toPorts/0/ports/0").put("port", 80);
        assertThat(v.validate(p)).singleElement().asString().contains("/spec/ingress/0/toPorts/0/ports/0/port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Equals", "in", "NotExists", "=", ""})
    void aSelectorOperatorKubernetesDoesNotDefineIsRefused(String operator) throws Exception {
        ObjectNode p = documented();
        at(p, "/spec/endpointSelector/matchExpressions/0").put("operator", operator);
        assertThat(v.validate(p)).singleElement().asString()
                .contains("/spec/endpointSelector/matchExpressions/0/operator");
        ObjectNode q = documented();
        ((ObjectNode) at(q, "/spec/egress/0/toEndpoints/0").putArray("matchExpressions").addObject()
                .put("key", "app").put("operator", operator)).putArray("values").add("web");
        assertThat(v.validate(q)).singleElement().asString()
                .contains("/spec/egress/0/toEndpoints/0/matchExpressions/0/operator");
    }

    @Test
    void aSelectorsValuesFollowItsOperator() throws Exception {
        ObjectNode inWithout = documented();
        at(inWithout, "/spec/endpointSelector/matchExpressions/0").remove("values");
        assertThat(v.validate(inWithout)).singleElement().asString().contains("matchExpressions/0/values");
        ObjectNode existsWith = documented();
        at(existsWith, "/spec/endpointSelector/matchExpressions/2").putArray("values").add("x");
        assertThat(v.validate(existsWith)).singleElement().asString().contains("matchExpressions/2/values");
        ObjectNode notAString = documented();
        at(notAString, "/spec/endpointSelector/matchLabels").put("role", 7);
        assertThat(v.validate(notAString)).singleElement().asString().contains("/spec/endpointSelector/matchLabels/role");
    }

    @Test
    void theEnvelopeAndTheRuleSectionsAreChecked() throws Exception {
        ObjectNode noSelector = documented();
        at(noSelector, "/spec").remove("endpointSelector");
        assertThat(v.validate(noSelector)).singleElement().asString().contains("endpointSelector");
        ObjectNode badName = documented();
        at(badName, "/metadata").put("name", "Not_A_Name");
        assertThat(v.validate(badName)).singleElement().asString().contains("/metadata/name");
        ObjectNode badNamespace = documented();
        at(badNamespace, "/metadata").put("namespace", "Shop");
        assertThat(v.validate(badNamespace)).singleElement().asString().contains("/metadata/namespace");
        ObjectNode badCidr = documented();
        ((ArrayNode) badCidr.at("/spec/egress/2/toCIDR")).add("10.0.0.1/33");
        assertThat(v.validate(badCidr)).singleElement().asString().contains("/spec/egress/2/toCIDR/2");
        ObjectNode egressAsObject = documented();
        at(egressAsObject, "").putObject("spec").putObject("endpointSelector");
        assertThat(v.validate(egressAsObject)).singleElement().asString().contains("ingress or egress");
        ObjectNode fqdnOnIngress = documented();
        at(fqdnOnIngress, "/spec/ingress/0").remove("fromEndpoints");
        at(fqdnOnIngress, "/spec/ingress/0").putArray("toFQDNs").addObject().put("matchName", "a.example");
        assertThat(v.validate(fqdnOnIngress)).singleElement().asString().contains("/spec/ingress/0/toFQDNs");
    }
}
