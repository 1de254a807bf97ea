package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * mesh.enforce.cni: cilium. The CiliumNetworkPolicies are checked against Cilium's own CRD schema (shipped, see
 * schemas/README.md), and the schema is really applied: what Cilium would refuse is refused here.
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

    @Test
    void ciliumPoliciesInsteadOfNetworkPoliciesValidAgainstCiliumsSchema() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG);
        assertThat(objects).noneMatch(o -> o.path("kind").asText().equals("NetworkPolicy"));
        ObjectNode shop = (ObjectNode) MeshManifestsTest.find(objects, "CiliumNetworkPolicy", "mesh-egress-enforce");
        assertThat(shop.path("spec").toString()).contains("{\"toEntities\":[\"host\"]", "{\"toEntities\":"
                + "[\"kube-apiserver\"]}", "{\"toCIDR\":[\"169.254.20.10/32\"]");
        ManifestValidator v = ManifestValidator.load();
        ObjectNode twoKinds = shop.deepCopy();
        ((ObjectNode) twoKinds.path("spec").path("egress").get(0)).putArray("toEntities").add("world");
        assertThat(v.validate(twoKinds)).anySatisfy(p -> assertThat(p).contains("/spec/egress/0")
                .contains("mutually exclusive"));
        ObjectNode unknownEntity = shop.deepCopy();
        int apiServer = 0;
        while (!unknownEntity.path("spec").path("egress").get(apiServer).has("toEntities")
                || !unknownEntity.path("spec").path("egress").get(apiServer).toString().contains("kube-apiserver")) {
            apiServer++;
        }
        ((ArrayNode) unknownEntity.path("spec").path("egress").get(apiServer).path("toEntities")).add("internet");
        String where = "/spec/egress/" + apiServer + "/toEntities/1";
        assertThat(v.validate(unknownEntity)).anySatisfy(p -> assertThat(p).contains(where));
        ObjectNode misspelt = shop.deepCopy();
        ((ObjectNode) misspelt.path("spec")).put("endpointSelectr", "x");
        assertThat(v.validate(misspelt)).isNotEmpty();
        ObjectNode badProtocol = shop.deepCopy();
        ((ObjectNode) badProtocol.path("spec").path("egress").get(0).path("toPorts").get(0).path("ports").get(0))
                .put("protocol", "QUIC");
        assertThat(v.validate(badProtocol)).anySatisfy(p -> assertThat(p).contains("/spec/egress/0/toPorts/0/ports/0/protocol"));
    }
}
