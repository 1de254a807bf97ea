package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.Workload;
import io.meshegress.testing.Configs;
import java.net.InetAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** identity.kubernetes and policy.roles[].workloads as the loader reads them, and which role a workload gets. */
class WorkloadRolesConfigTest {
    private static final String ROLES = """
            identity:
              kubernetes: {kubeconfig: /tmp/kc, unknownClient: refuse}
            policy:
              allow: [common.test]
              roles:
                - name: payments
                  workloads:
                    - namespace: payments
                      serviceAccount: api
                      podSelector: {app: api}
                  clients: ["10.9.8.7/32"]
                  allow: [api.stripe.com]
                - name: teams
                  workloads:
                    - namespaceSelector:
                        matchLabels: {team: pay}
                        matchExpressions:
                          - {key: stage, operator: NotIn, values: [dev]}
                  allow: [team.test]
            """;

    private static Workload pod(String ns, String sa, Map<String, String> labels, Map<String, String> nsLabels) {
        return new Workload(ns, "p-1", sa, labels, nsLabels);
    }

    @Test
    void identityAndWorkloadsAreRead() throws Exception {
        EgressConfig c = Configs.parseWithDefaultListeners("w.yaml", ROLES);
        assertThat(c.identity().kubernetes().kubeconfig()).isEqualTo("/tmp/kc");
        assertThat(c.identity().kubernetes().unknownClient()).isEqualTo(EgressConfig.UnknownClient.REFUSE);
        EgressPolicy p = c.egressPolicy();
        InetAddress any = InetAddress.getByName("10.1.1.1");
        assertThat(p.role(any, pod("payments", "api", Map.of("app", "api"), Map.of())).name()).isEqualTo("payments");
        assertThat(p.role(any, pod("payments", "api", Map.of("app", "web"), Map.of())).name())
                .as("the pod selector must match too").isEqualTo("default");
        assertThat(p.role(any, pod("payments", "batch", Map.of("app", "api"), Map.of())).name())
                .as("the service account must match too").isEqualTo("default");
        assertThat(p.role(any, pod("other", "x", Map.of(), Map.of("team", "pay"))).name()).isEqualTo("teams");
        assertThat(p.role(any, pod("other", "x", Map.of(), Map.of("team", "pay", "stage", "dev"))).name())
                .isEqualTo("default");
        assertThat(p.role(InetAddress.getByName("10.9.8.7"), null).name()).as("clients still work beside workloads")
                .isEqualTo("payments");
        assertThat(p.roleReason(any, pod("payments", "api", Map.of("app", "api"), Map.of())))
                .isEqualTo("policy.roles[0].workloads[0] (pod payments/p-1, service account api)");
    }

    @Test
    void absentIdentityIsTodaysMeaningAndAnEmptyMappingIsTheInClusterWatch() throws Exception {
        assertThat(Configs.parseWithDefaultListeners("w.yaml", "").identity().kubernetes()).isNull();
        EgressConfig.Kubernetes k = Configs.parseWithDefaultListeners("w.yaml", "identity: {kubernetes: {}}")
                .identity().kubernetes();
        assertThat(k.kubeconfig()).isEmpty();
        assertThat(k.unknownClient()).isEqualTo(EgressConfig.UnknownClient.DEFAULT);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            policy: {roles: [{name: a, workloads: [{namespace: x}]}]}                         | w.yaml:1:40: policy.roles[0].workloads[0]: role a selects workloads, but no identity.kubernetes names the pods (add identity: {kubernetes: {}} in the cluster, or kubernetes: {kubeconfig: FILE} outside it)
            K policy: {roles: [{name: a, workloads: [{serviceAccount: x}]}]}                 | w.yaml:2:40: policy.roles[0].workloads[0]: a workloads entry needs namespace (e.g. namespace: payments) or namespaceSelector (e.g. namespaceSelector: {team: pay}), one of both
            K policy: {roles: [{name: a, workloads: [{namespace: x, namespaceSelector: {}}]}]} | w.yaml:2:40: policy.roles[0].workloads[0]: a workloads entry needs namespace (e.g. namespace: payments) or namespaceSelector (e.g. namespaceSelector: {team: pay}), one of both
            K policy: {roles: [{name: a, workloads: [{namespace: Pay}]}]}                    | w.yaml:2:52: policy.roles[0].workloads[0].namespace: "Pay" is not a namespace (lower-case letters, digits and '-', at most 63)
            K policy: {roles: [{name: a, workloads: [{namespace: x, podSelector: {matchExpressions: [{key: a, operator: in, values: [b]}]}}]}]} | w.yaml:2:107: policy.roles[0].workloads[0].podSelector.matchExpressions[0].operator: "in" is not In, NotIn, Exists or DoesNotExist
            K policy: {roles: [{name: a, workloads: [{namespace: x, podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}}]}]} | w.yaml:2:88: policy.roles[0].workloads[0].podSelector.matchExpressions[0]: Exists takes no values
            K policy: {roles: [{name: a, workloads: [{namespace: x, podSelector: {matchLabels: {a: b}, app: c}}]}]} | w.yaml:2:90: policy.roles[0].workloads[0].podSelector.app: unknown key beside matchLabels and matchExpressions (write every label under matchLabels, or a plain mapping of labels alone)
            K policy: {roles: [{name: a, workloads: [{namespace: x, podSelector: {-app: c}}]}]} | w.yaml:2:69: policy.roles[0].workloads[0].podSelector.-app: label key "-app" is not a label name (at most 63 letters, digits, -, _ or ., beginning and ending with a letter or digit)
            K policy: {roles: [{name: a, workloads: [{namespace: x, pods: {}}]}]}            | w.yaml:2:55: policy.roles[0].workloads[0].pods: unknown key (expected one of: namespace, namespaceSelector, serviceAccount, podSelector, user; every key is described in docs/configuration.md)
            identity: {kubernetes: {unknownClient: deny}}                                    | w.yaml:1:40: identity.kubernetes.unknownClient: "deny" is not default or refuse
            """)
    void mistakesAreOneLineWithTheirPlace(String yaml, String expected) {
        String text = yaml.startsWith("K ") ? "identity: {kubernetes: {}}\n" + yaml.substring(2) : yaml;
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("w.yaml", text))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected);
    }
}
