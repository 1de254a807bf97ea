package io.meshegress.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What {@code identity.kubernetes} needs in the cluster: the proxy's own ServiceAccount, a ClusterRole that may only
 * read pods and namespaces (get, list, watch: what the informers do), and the binding between them. Pods and
 * namespaces are cluster-wide, so the role is a ClusterRole; nothing in it writes. With identity.bearer it may also
 * create TokenReviews (authentication.k8s.io), which is how a token is checked, and which stores nothing.
 */
final class IdentityManifests {
    static final String SERVICE_ACCOUNT = ManifestGenerator.NAME;
    static final String CLUSTER_ROLE = ManifestGenerator.NAME + "-identity-reader";

    private IdentityManifests() {
    }

    static List<ObjectNode> all(String namespace) {
        return all(namespace, false);
    }

    /** @param tokenReviews identity.bearer is set: the role may create TokenReviews too */
    static List<ObjectNode> all(String namespace, boolean tokenReviews) {
        ObjectNode account = ManifestGenerator.object("v1", "ServiceAccount", SERVICE_ACCOUNT, namespace);
        ObjectNode role = clusterScoped(ManifestGenerator.object("rbac.authorization.k8s.io/v1", "ClusterRole",
                CLUSTER_ROLE, namespace));
        ObjectNode rule = role.putArray("rules").addObject();
        rule.putArray("apiGroups").add("");
        rule.putArray("resources").add("pods").add("namespaces");
        rule.putArray("verbs").add("get").add("list").add("watch");
        if (tokenReviews) {
            ObjectNode review = ((ArrayNode) role.get("rules")).addObject();
            review.putArray("apiGroups").add("authentication.k8s.io");
            review.putArray("resources").add("tokenreviews");
            review.putArray("verbs").add("create");
        }
        ObjectNode binding = clusterScoped(ManifestGenerator.object("rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding", CLUSTER_ROLE, namespace));
        binding.putObject("roleRef").put("apiGroup", "rbac.authorization.k8s.io").put("kind", "ClusterRole")
                .put("name", CLUSTER_ROLE);
        ArrayNode subjects = binding.putArray("subjects");
        subjects.addObject().put("kind", "ServiceAccount").put("name", SERVICE_ACCOUNT).put("namespace", namespace);
        return List.of(account, role, binding);
    }

    /** Cluster-scoped objects have no namespace. */
    private static ObjectNode clusterScoped(ObjectNode o) {
        ((ObjectNode) o.get("metadata")).remove("namespace");
        return o;
    }

    /** The Deployment's pod runs as the ServiceAccount, with its token mounted (the watch authenticates with it). */
    static void runAsReader(ObjectNode podSpec) {
        podSpec.put("serviceAccountName", SERVICE_ACCOUNT);
        podSpec.put("automountServiceAccountToken", true);
    }
}
