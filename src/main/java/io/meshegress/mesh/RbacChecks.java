package io.meshegress.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ServiceAccount (v1), ClusterRole and ClusterRoleBinding (rbac.authorization.k8s.io/v1) of
 * identity.kubernetes, checked field by field: no schema of these kinds ships with this project (only what the
 * steering side provides does), so their shape is checked here, as {@link CiliumChecks} does for Cilium. Any other
 * or misspelt field is an error, as the strict schemas make it for the other kinds. Every field and value comes
 * from the Kubernetes API reference:
 * <ul>
 *   <li>https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/service-account-v1/
 *   (automountServiceAccountToken boolean; imagePullSecrets[] LocalObjectReference {name}; secrets[]
 *   ObjectReference {apiVersion, fieldPath, kind, name, namespace, resourceVersion, uid}); the same reference as
 *   https://docs.redhat.com/en/documentation/openshift_container_platform_api/4.17/html/security_apis/serviceaccount-v1;</li>
 *   <li>https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/cluster-role-v1/ (rules[]
 *   PolicyRule: apiGroups, resources, verbs required, resourceNames, nonResourceURLs; aggregationRule
 *   {clusterRoleSelectors[] LabelSelector}); as in
 *   https://docs.redhat.com/en/documentation/openshift_container_platform/4.14/html/rbac_apis/clusterrole-rbac-authorization-k8s-io-v1;</li>
 *   <li>https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/cluster-role-binding-v1/
 *   (roleRef required, RoleRef {apiGroup, kind, name} all required; subjects[] Subject {kind, name required;
 *   apiGroup, namespace}; kind is ServiceAccount, User or Group, and a ServiceAccount subject needs its
 *   namespace); as in
 *   https://docs.redhat.com/en/documentation/openshift_container_platform/4.14/html/rbac_apis/clusterrolebinding-rbac-authorization-k8s-io-v1;</li>
 *   <li>the verbs are the request verbs of https://kubernetes.io/docs/reference/access-authn-authz/authorization/
 *   (get, list, watch, create, update, patch, delete, deletecollection) and "*" for all.</li>
 * </ul>
 * ClusterRole and ClusterRoleBinding are cluster-scoped: a namespace on them is an error (the API server would
 * drop it, and a reader of the manifest would believe the role is confined to it).
 */
final class RbacChecks {
    static final String RBAC = "rbac.authorization.k8s.io/v1";
    static final String RBAC_GROUP = "rbac.authorization.k8s.io";

    private static final Set<String> METADATA = Set.of("name", "namespace", "labels", "annotations");
    private static final Set<String> SERVICE_ACCOUNT = Set.of("apiVersion", "kind", "metadata",
            "automountServiceAccountToken", "secrets", "imagePullSecrets");
    private static final Set<String> OBJECT_REFERENCE = Set.of("apiVersion", "fieldPath", "kind", "name",
            "namespace", "resourceVersion", "uid");
    private static final Set<String> LOCAL_OBJECT_REFERENCE = Set.of("name");
    private static final Set<String> CLUSTER_ROLE = Set.of("apiVersion", "kind", "metadata", "rules",
            "aggregationRule");
    private static final Set<String> POLICY_RULE = Set.of("apiGroups", "resources", "verbs", "resourceNames",
            "nonResourceURLs");
    private static final Set<String> AGGREGATION_RULE = Set.of("clusterRoleSelectors");
    private static final Set<String> LABEL_SELECTOR = Set.of("matchLabels", "matchExpressions");
    private static final Set<String> EXPRESSION = Set.of("key", "operator", "values");
    private static final Set<String> OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");
    private static final Set<String> VERBS = Set.of("get", "list", "watch", "create", "update", "patch", "delete",
            "deletecollection", "*");
    private static final Set<String> CLUSTER_ROLE_BINDING = Set.of("apiVersion", "kind", "metadata", "roleRef",
            "subjects");
    private static final Set<String> ROLE_REF = Set.of("apiGroup", "kind", "name");
    private static final Set<String> ROLE_KINDS = Set.of("Role", "ClusterRole");
    private static final Set<String> SUBJECT = Set.of("kind", "name", "namespace", "apiGroup");
    private static final Set<String> SUBJECT_KINDS = Set.of("ServiceAccount", "User", "Group");

    private RbacChecks() {
    }

    static boolean covers(String apiVersion, String kind) {
        return apiVersion.equals("v1") && kind.equals("ServiceAccount")
                || apiVersion.equals(RBAC) && (kind.equals("ClusterRole") || kind.equals("ClusterRoleBinding"));
    }

    /** The shape of one object beyond its metadata's name and namespace format (checked by the caller). */
    static void check(ObjectNode o, String id, List<String> problems) {
        String kind = o.path("kind").asText();
        known(o.path("metadata"), METADATA, id, "/metadata", problems);
        boolean namespaced = kind.equals("ServiceAccount");
        boolean hasNamespace = !o.path("metadata").path("namespace").asText("").isEmpty();
        if (namespaced && !hasNamespace) {
            problems.add(id + ": /metadata/namespace: a ServiceAccount is namespaced and needs one");
        } else if (!namespaced && o.path("metadata").has("namespace")) {
            problems.add(id + ": /metadata/namespace: a " + kind + " is cluster-scoped and has no namespace");
        }
        switch (kind) {
            case "ServiceAccount" -> serviceAccount(o, id, problems);
            case "ClusterRole" -> clusterRole(o, id, problems);
            default -> clusterRoleBinding(o, id, problems);
        }
    }

    private static void serviceAccount(ObjectNode o, String id, List<String> problems) {
        known(o, SERVICE_ACCOUNT, id, "", problems);
        if (o.has("automountServiceAccountToken") && !o.path("automountServiceAccountToken").isBoolean()) {
            problems.add(id + ": /automountServiceAccountToken: must be a boolean");
        }
        each(o, "secrets", id, "", problems, (s, at) -> {
            if (known(s, OBJECT_REFERENCE, id, at, problems)) {
                s.fields().forEachRemaining(e -> string(e.getValue(), id, at + "/" + e.getKey(), problems));
            }
        });
        each(o, "imagePullSecrets", id, "", problems, (s, at) -> {
            if (known(s, LOCAL_OBJECT_REFERENCE, id, at, problems)) {
                string(s.path("name"), id, at + "/name", problems);
            }
        });
    }

    private static void clusterRole(ObjectNode o, String id, List<String> problems) {
        known(o, CLUSTER_ROLE, id, "", problems);
        each(o, "rules", id, "", problems, (rule, at) -> {
            if (!known(rule, POLICY_RULE, id, at, problems)) {
                return;
            }
            if (!rule.path("verbs").isArray() || rule.path("verbs").isEmpty()) {
                problems.add(id + ": " + at + "/verbs: required, at least one verb");
            }
            for (String list : POLICY_RULE) {
                strings(rule, list, id, at, problems);
            }
            JsonNode verbs = rule.path("verbs");
            for (int i = 0; i < verbs.size(); i++) {
                if (verbs.get(i).isTextual() && !VERBS.contains(verbs.get(i).asText())) {
                    problems.add(id + ": " + at + "/verbs/" + i + ": \"" + verbs.get(i).asText()
                            + "\" is not a Kubernetes verb " + VERBS.stream().sorted().toList());
                }
            }
            // The API server: a rule is about resources (in API groups) or about non-resource URLs, not both.
            boolean urls = rule.path("nonResourceURLs").size() > 0;
            if (urls && (rule.path("resources").size() > 0 || rule.path("apiGroups").size() > 0)) {
                problems.add(id + ": " + at + ": resources and nonResourceURLs cannot be in one rule");
            } else if (!urls && rule.path("apiGroups").size() == 0) {
                problems.add(id + ": " + at + "/apiGroups: at least one (\"\" is the core group)");
            } else if (!urls && rule.path("resources").size() == 0) {
                problems.add(id + ": " + at + "/resources: at least one");
            }
        });
        if (!o.has("rules") && !o.has("aggregationRule")) {
            problems.add(id + ": /rules: a ClusterRole needs rules or an aggregationRule");
        }
        if (o.has("aggregationRule") && known(o.path("aggregationRule"), AGGREGATION_RULE, id, "/aggregationRule",
                problems)) {
            each(o.path("aggregationRule"), "clusterRoleSelectors", id, "/aggregationRule", problems,
                    (s, at) -> selector(s, id, at, problems));
        }
    }

    private static void selector(JsonNode s, String id, String at, List<String> problems) {
        if (!known(s, LABEL_SELECTOR, id, at, problems)) {
            return;
        }
        if (s.has("matchLabels")) {
            if (!s.path("matchLabels").isObject()) {
                problems.add(id + ": " + at + "/matchLabels: must be a map of strings");
            } else {
                s.path("matchLabels").fields().forEachRemaining(e ->
                        string(e.getValue(), id, at + "/matchLabels/" + e.getKey(), problems));
            }
        }
        each(s, "matchExpressions", id, at, problems, (e, w) -> {
            if (!known(e, EXPRESSION, id, w, problems)) {
                return;
            }
            string(e.path("key"), id, w + "/key", problems);
            if (!OPERATORS.contains(e.path("operator").asText())) {
                problems.add(id + ": " + w + "/operator: must be one of " + OPERATORS.stream().sorted().toList());
            }
            strings(e, "values", id, w, problems);
        });
    }

    private static void clusterRoleBinding(ObjectNode o, String id, List<String> problems) {
        known(o, CLUSTER_ROLE_BINDING, id, "", problems);
        JsonNode ref = o.path("roleRef");
        if (!o.has("roleRef")) {
            problems.add(id + ": /roleRef: required");
        } else if (known(ref, ROLE_REF, id, "/roleRef", problems)) {
            for (String f : ROLE_REF) {
                if (ref.path(f).asText("").isEmpty() || !ref.path(f).isTextual()) {
                    problems.add(id + ": /roleRef/" + f + ": required");
                }
            }
            if (ref.path("apiGroup").isTextual() && !ref.path("apiGroup").asText().equals(RBAC_GROUP)) {
                problems.add(id + ": /roleRef/apiGroup: must be " + RBAC_GROUP);
            }
            // A ClusterRoleBinding can only reference a ClusterRole (a Role is namespaced).
            if (ref.path("kind").isTextual() && !ref.path("kind").asText().equals("ClusterRole")) {
                problems.add(id + ": /roleRef/kind: \"" + ref.path("kind").asText() + "\" must be "
                        + (ROLE_KINDS.contains(ref.path("kind").asText()) ? "ClusterRole in a ClusterRoleBinding"
                        : "Role or ClusterRole"));
            }
        }
        each(o, "subjects", id, "", problems, (s, at) -> {
            if (!known(s, SUBJECT, id, at, problems)) {
                return;
            }
            s.fields().forEachRemaining(e -> string(e.getValue(), id, at + "/" + e.getKey(), problems));
            String kind = s.path("kind").asText("");
            if (!SUBJECT_KINDS.contains(kind)) {
                problems.add(id + ": " + at + "/kind: \"" + kind + "\" must be one of "
                        + SUBJECT_KINDS.stream().sorted().toList());
            }
            if (s.path("name").asText("").isEmpty()) {
                problems.add(id + ": " + at + "/name: required");
            }
            // The API reference: ServiceAccount subjects have the core group, User and Group rbac's.
            String group = s.path("apiGroup").asText(kind.equals("ServiceAccount") ? "" : RBAC_GROUP);
            if (kind.equals("ServiceAccount") && !group.isEmpty()
                    || SUBJECT_KINDS.contains(kind) && !kind.equals("ServiceAccount") && !group.equals(RBAC_GROUP)) {
                problems.add(id + ": " + at + "/apiGroup: \"" + group + "\" is not the API group of a " + kind);
            }
            if (kind.equals("ServiceAccount") && s.path("namespace").asText("").isEmpty()) {
                problems.add(id + ": " + at + "/namespace: required for a ServiceAccount subject");
            }
        });
    }

    private interface Item {
        void check(JsonNode item, String at);
    }

    /** An optional list of objects, each checked at its own path. */
    private static void each(JsonNode parent, String field, String id, String where, List<String> problems,
            Item item) {
        if (!parent.has(field)) {
            return;
        }
        JsonNode list = parent.path(field);
        if (!list.isArray()) {
            problems.add(id + ": " + where + "/" + field + ": must be a list");
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            item.check(list.get(i), where + "/" + field + "/" + i);
        }
    }

    private static void strings(JsonNode parent, String field, String id, String where, List<String> problems) {
        if (!parent.has(field)) {
            return;
        }
        JsonNode list = parent.path(field);
        if (!list.isArray()) {
            problems.add(id + ": " + where + "/" + field + ": must be a list of strings");
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            string(list.get(i), id, where + "/" + field + "/" + i, problems);
        }
    }

    private static void string(JsonNode v, String id, String where, List<String> problems) {
        if (!v.isMissingNode() && !v.isTextual()) {
            problems.add(id + ": " + where + ": must be a string");
        }
    }

    private static boolean known(JsonNode o, Set<String> fields, String id, String where, List<String> problems) {
        if (!o.isObject()) {
            problems.add(id + ": " + (where.isEmpty() ? "/" : where) + ": must be an object");
            return false;
        }
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) o::fields) {
            if (!fields.contains(e.getKey())) {
                problems.add(id + ": " + where + "/" + e.getKey() + ": unknown field (the Kubernetes API has "
                        + fields.stream().sorted().toList() + " here)");
            }
        }
        return true;
    }
}
