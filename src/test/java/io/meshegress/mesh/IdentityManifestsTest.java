package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * identity.kubernetes in the cluster: the ServiceAccount the proxy runs as, a ClusterRole that may only read pods
 * and namespaces, its binding; all valid by the field-by-field checks of the Kubernetes API reference
 * ({@link RbacChecksTest} has the rest). What the watch needs
 * is what Kubernetes' RBAC documentation says a reader of core objects needs: apiGroups [""] (the core group),
 * the resources by their plural names, and the verbs get, list and watch.
 */
class IdentityManifestsTest {
    static final String CONFIG = """
            http: {listen: "0.0.0.0:8080"}
            identity: {kubernetes: {}}
            policy:
              allow: []
              roles: [{name: pay, workloads: [{namespace: payments}], allow: [api.stripe.com]}]
            mesh:
              namespace: egress
              proxy: {image: "registry.example.com/mesh-egress:0.1.0"}
              destinations: [{hosts: [api.stripe.com], tls: [443]}]
            sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
            """;

    @Test
    void theProxyRunsAsAServiceAccountThatMayOnlyReadPodsAndNamespaces() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG); // validated there
        JsonNode account = MeshManifestsTest.find(objects, "ServiceAccount", "mesh-egress");
        assertThat(account.path("metadata").path("namespace").asText()).isEqualTo("egress");
        JsonNode role = MeshManifestsTest.find(objects, "ClusterRole", "mesh-egress-identity-reader");
        assertThat(role.path("metadata").has("namespace")).as("cluster-scoped").isFalse();
        assertThat(role.path("rules")).hasSize(1);
        JsonNode rule = role.path("rules").get(0);
        assertThat(strings(rule.path("apiGroups"))).containsExactly("");
        assertThat(strings(rule.path("resources"))).containsExactlyInAnyOrder("pods", "namespaces");
        assertThat(strings(rule.path("verbs"))).containsExactlyInAnyOrder("get", "list", "watch");
        JsonNode binding = MeshManifestsTest.find(objects, "ClusterRoleBinding", "mesh-egress-identity-reader");
        assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("ClusterRole");
        assertThat(binding.path("roleRef").path("name").asText()).isEqualTo("mesh-egress-identity-reader");
        JsonNode subject = binding.path("subjects").get(0);
        assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
        assertThat(subject.path("name").asText()).isEqualTo("mesh-egress");
        assertThat(subject.path("namespace").asText()).isEqualTo("egress");
        JsonNode pod = MeshManifestsTest.find(objects, "Deployment", "mesh-egress").path("spec").path("template")
                .path("spec");
        assertThat(pod.path("serviceAccountName").asText()).isEqualTo("mesh-egress");
        assertThat(pod.path("automountServiceAccountToken").asBoolean()).as("the watch authenticates with it").isTrue();
    }

    @Test
    void bearerTokensAddTheRightToAskForATokenReviewAndNothingMore() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG.replace("identity: {kubernetes: {}}",
                "identity: {kubernetes: {}, bearer: {}}")); // validated there, RbacChecks included
        JsonNode rules = MeshManifestsTest.find(objects, "ClusterRole", "mesh-egress-identity-reader").path("rules");
        assertThat(rules).hasSize(2);
        // As the Kubernetes docs grant it: apiGroups authentication.k8s.io, resources tokenreviews, verbs create.
        assertThat(strings(rules.get(1).path("apiGroups"))).containsExactly("authentication.k8s.io");
        assertThat(strings(rules.get(1).path("resources"))).containsExactly("tokenreviews");
        assertThat(strings(rules.get(1).path("verbs"))).containsExactly("create");
    }

    @Test
    void withoutIdentityNothingChanges() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG.replace("identity: {kubernetes: {}}\n", "")
                .replace("workloads: [{namespace: payments}]", "clients: [\"10.1.0.0/16\"]"));
        assertThat(objects).noneMatch(o -> List.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding")
                .contains(o.path("kind").asText()));
        JsonNode pod = MeshManifestsTest.find(objects, "Deployment", "mesh-egress").path("spec").path("template")
                .path("spec");
        assertThat(pod.has("serviceAccountName")).isFalse();
        assertThat(pod.path("automountServiceAccountToken").asBoolean()).isFalse();
    }

    @Test
    void theChecksAreStrictForTheNewKinds() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(CONFIG);
        ObjectNode role = (ObjectNode) MeshManifestsTest.find(objects, "ClusterRole", "mesh-egress-identity-reader");
        ((ObjectNode) role.path("rules").get(0)).putArray("verb").add("get");
        ObjectNode account = (ObjectNode) MeshManifestsTest.find(objects, "ServiceAccount", "mesh-egress");
        account.put("automountServiceAccountToken", "yes");
        List<String> problems = ManifestValidator.load().validate(objects);
        assertThat(problems).anyMatch(p -> p.contains("ClusterRole") && p.contains("verb"))
                .anyMatch(p -> p.contains("ServiceAccount") && p.contains("automountServiceAccountToken"));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
