package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ServiceAccount, ClusterRole and ClusterRoleBinding, checked field by field. The objects below are written by
 * hand from the Kubernetes API reference (kubernetes.io/docs/reference/kubernetes-api/: service-account-v1,
 * cluster-role-v1, cluster-role-binding-v1), not from what the generator writes: the valid ones are the reference's
 * own fields, and each invalid one breaks one rule the reference states.
 */
class RbacChecksTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String ACCOUNT = """
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": "reader", "namespace": "egress", "labels": {"app": "x"}},
             "automountServiceAccountToken": false,
             "secrets": [{"name": "reader-token", "namespace": "egress", "kind": "Secret", "apiVersion": "v1"}],
             "imagePullSecrets": [{"name": "registry"}]}
            """;
    private static final String ROLE = """
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "reader"},
             "rules": [
               {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list", "watch"]},
               {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"],
                "verbs": ["create", "update", "patch", "delete", "deletecollection"]},
               {"nonResourceURLs": ["/healthz", "/metrics"], "verbs": ["get"]},
               {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
            """;
    private static final String AGGREGATED = """
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "monitoring"},
             "aggregationRule": {"clusterRoleSelectors": [
               {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
               {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["read"]}]}]},
             "rules": []}
            """;
    private static final String BINDING = """
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "reader"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
             "subjects": [
               {"kind": "ServiceAccount", "name": "reader", "namespace": "egress"},
               {"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
               {"kind": "Group", "name": "system:serviceaccounts"}]}
            """;

    @Test
    void whatIstioWritesForIdentityPasses() throws Exception {
        List<ObjectNode> objects = MeshManifestsTest.generate(IdentityManifestsTest.CONFIG);
        assertThat(objects.stream().map(o -> o.path("kind").asText()))
                .contains("ServiceAccount", "ClusterRole", "ClusterRoleBinding");
        assertThat(ManifestValidator.load().validate(objects)).isEmpty();
        for (ObjectNode o : IdentityManifests.all("egress")) {
            assertThat(ManifestValidator.load().validate(o)).as(o.path("kind").asText()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {ACCOUNT, ROLE, AGGREGATED, BINDING})
    void theReferencesOwnFieldsPass(String object) throws Exception {
        assertThat(ManifestValidator.load().validate((ObjectNode) JSON.readTree(object))).isEmpty();
    }

    @Test
    void aMisspeltFieldIsAnErrorAtEachDepth() throws Exception {
        rejects(ACCOUNT, o -> o.put("automountServiceAccountTokens", true), "/automountServiceAccountTokens");
        rejects(ACCOUNT, o -> at(o, "/metadata").put("namespce", "egress"), "/metadata/namespce");
        rejects(ACCOUNT, o -> at(o, "/secrets/0").put("nmae", "x"), "/secrets/0/nmae");
        rejects(ACCOUNT, o -> at(o, "/imagePullSecrets/0").put("namespace", "egress"),
                "/imagePullSecrets/0/namespace");
        rejects(ROLE, o -> o.put("rule", "x"), "/rule");
        rejects(ROLE, o -> at(o, "/rules/0").putArray("verb").add("get"), "/rules/0/verb");
        rejects(ROLE, o -> at(o, "/rules/1").putArray("resourceName").add("web"),
                "/rules/1/resourceName");
        rejects(AGGREGATED, o -> at(o, "/aggregationRule").putArray("clusterRoleSelector"),
                "/aggregationRule/clusterRoleSelector");
        rejects(AGGREGATED, o -> at(o, "/aggregationRule/clusterRoleSelectors/1/matchExpressions/0")
                .put("operater", "In"),
                "/aggregationRule/clusterRoleSelectors/1/matchExpressions/0/operater");
        rejects(BINDING, o -> o.putArray("subject"), "/subject");
        rejects(BINDING, o -> at(o, "/roleRef").put("namespace", "egress"), "/roleRef/namespace");
        rejects(BINDING, o -> at(o, "/subjects/0").put("namepsace", "egress"),
                "/subjects/0/namepsace");
    }

    @Test
    void theReferencesRulesAreEnforced() throws Exception {
        rejects(ACCOUNT, o -> o.put("automountServiceAccountToken", "yes"), "/automountServiceAccountToken");
        rejects(ACCOUNT, o -> at(o, "/metadata").remove("namespace"), "/metadata/namespace");
        rejects(ROLE, o -> at(o, "/rules/0").putArray("verbs").add("get").add("list").add("watch").add("read"),
                "/rules/0/verbs/3");
        rejects(ROLE, o -> at(o, "/rules/0").putArray("verbs").add("get").add("list").add("watch").add("escalate-all"),
                "/rules/0/verbs/3");
        rejects(ROLE, o -> at(o, "/rules/0").putArray("verbs"), "/rules/0/verbs");
        rejects(ROLE, o -> at(o, "/rules/0").remove("verbs"), "/rules/0/verbs");
        rejects(ROLE, o -> at(o, "/rules/0").remove("apiGroups"), "/rules/0/apiGroups");
        rejects(ROLE, o -> at(o, "/rules/2").putArray("resources").add("pods"), "/rules/2");
        rejects(ROLE, o -> at(o, "/metadata").put("namespace", "egress"), "/metadata/namespace");
        rejects(BINDING, o -> at(o, "/metadata").put("namespace", "egress"), "/metadata/namespace");
        rejects(BINDING, o -> at(o, "/roleRef").put("kind", "Role"), "/roleRef/kind");
        rejects(BINDING, o -> at(o, "/roleRef").put("kind", "ServiceAccount"), "/roleRef/kind");
        rejects(BINDING, o -> at(o, "/roleRef").put("apiGroup", "rbac.authorization.k8s.io/v1"), "/roleRef/apiGroup");
        rejects(BINDING, o -> at(o, "/roleRef").put("apiGroup", ""), "/roleRef/apiGroup");
        rejects(BINDING, o -> at(o, "/roleRef").remove("name"), "/roleRef/name");
        rejects(BINDING, o -> o.remove("roleRef"), "/roleRef");
        rejects(BINDING, o -> at(o, "/subjects/0").remove("namespace"), "/subjects/0/namespace");
        rejects(BINDING, o -> at(o, "/subjects/0").put("kind", "Pod"), "/subjects/0/kind");
        rejects(BINDING, o -> at(o, "/subjects/1").remove("name"), "/subjects/1/name");
        rejects(BINDING, o -> at(o, "/subjects/0").put("apiGroup", "rbac.authorization.k8s.io"),
                "/subjects/0/apiGroup");
    }

    private static void rejects(String object, Consumer<ObjectNode> breakIt, String where) throws Exception {
        ObjectNode o = (ObjectNode) JSON.readTree(object);
        breakIt.accept(o);
        String id = o.path("kind").asText() + " " + o.path("metadata").path("name").asText();
        assertThat(ManifestValidator.load().validate(o)).as(where).anyMatch(p -> p.startsWith(id + ": " + where + ":"));
    }

    private static ObjectNode at(ObjectNode o, String pointer) {
        return (ObjectNode) o.at(pointer);
    }
}
