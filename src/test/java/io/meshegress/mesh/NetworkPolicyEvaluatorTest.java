package io.meshegress.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each rule of NetworkPolicy semantics as the Kubernetes API documentation states it
 * (concepts/services-networking/network-policies and the networking.k8s.io/v1 reference), one test per rule.
 */
class NetworkPolicyEvaluatorTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final NetworkPolicyEvaluator.Pod WEB = new NetworkPolicyEvaluator.Pod("shop", Map.of("app", "web"));
    static final NetworkPolicyEvaluator.Pod DB = new NetworkPolicyEvaluator.Pod("shop", Map.of("app", "db"));
    static final NetworkPolicyEvaluator.Pod OTHER_NS = new NetworkPolicyEvaluator.Pod("blog", Map.of("app", "db"));

    static NetworkPolicyEvaluator policies(String... yaml) throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String y : yaml) {
            out.add(YAML.readTree("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + y));
        }
        return new NetworkPolicyEvaluator(out);
    }

    static NetworkPolicyEvaluator.Peer ip(String a) throws Exception {
        return new NetworkPolicyEvaluator.Peer(InetAddress.getByName(a), null);
    }

    static NetworkPolicyEvaluator.Peer pod(NetworkPolicyEvaluator.Pod p) {
        return new NetworkPolicyEvaluator.Peer(null, p);
    }

    @Test
    void aPodNoPolicySelectsIsNotIsolated() throws Exception {
        NetworkPolicyEvaluator e = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {matchLabels: "
                + "{app: db}}, policyTypes: [Egress]}");
        assertThat(e.egress(WEB, ip("198.51.100.1"), 443, "TCP").allowed()).isTrue();
        assertThat(e.egress(DB, ip("198.51.100.1"), 443, "TCP").allowed()).as("selected, no rule").isFalse();
        assertThat(e.egress(OTHER_NS, ip("198.51.100.1"), 443, "TCP").allowed()).as("policies are per namespace")
                .isTrue();
    }

    @Test
    void anEmptyPodSelectorSelectsEveryPodOfTheNamespace() throws Exception {
        NetworkPolicyEvaluator e = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}, "
                + "policyTypes: [Egress]}");
        assertThat(e.egress(WEB, ip("198.51.100.1"), 443, "TCP").allowed()).isFalse();
        assertThat(e.egress(DB, ip("198.51.100.1"), 443, "TCP").allowed()).isFalse();
    }

    @Test
    void withoutPolicyTypesIngressAlwaysAndEgressOnlyWithAnEgressSection() throws Exception {
        NetworkPolicyEvaluator ingressOnly = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}}");
        assertThat(ingressOnly.egress(WEB, ip("198.51.100.1"), 443, "TCP").allowed()).isTrue();
        assertThat(ingressOnly.ingress(WEB, ip("198.51.100.1"), 443, "TCP").allowed()).isFalse();
        NetworkPolicyEvaluator both = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}, egress: []}");
        assertThat(both.egress(WEB, ip("198.51.100.1"), 443, "TCP").allowed()).isFalse();
    }

    @Test
    void matchExpressionsInNotInExistsDoesNotExist() {
        Map<String, String> labels = Map.of("app", "web", "tier", "front");
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchExpressions: [{key: app, operator: In, values: [web, api]}]}"),
                labels)).isTrue();
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}"),
                labels)).isFalse();
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}"),
                labels)).as("NotIn holds for an absent key").isTrue();
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchExpressions: [{key: tier, operator: Exists}]}"), labels))
                .isTrue();
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchExpressions: [{key: tier, operator: DoesNotExist}]}"),
                labels)).isFalse();
        assertThat(NetworkPolicyEvaluator.labelsMatch(json("{matchLabels: {app: web}, matchExpressions: [{key: tier, "
                + "operator: In, values: [back]}]}"), labels)).as("all requirements, ANDed").isFalse();
    }

    @Test
    void ipBlockWithExcept() throws Exception {
        JsonNode block = json("{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}");
        assertThat(NetworkPolicyEvaluator.ipBlockMatches(block, InetAddress.getByName("10.2.3.4"))).isTrue();
        assertThat(NetworkPolicyEvaluator.ipBlockMatches(block, InetAddress.getByName("10.1.3.4"))).isFalse();
        assertThat(NetworkPolicyEvaluator.ipBlockMatches(block, InetAddress.getByName("11.0.0.1"))).isFalse();
    }

    @Test
    void selectorPeersPodAloneIsTheSameNamespaceNamespaceAloneIsEveryPodBothIsBoth() throws Exception {
        NetworkPolicyEvaluator podOnly = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}, "
                + "policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]}");
        assertThat(podOnly.egress(WEB, pod(DB), 5432, "TCP").allowed()).isTrue();
        assertThat(podOnly.egress(WEB, pod(OTHER_NS), 5432, "TCP").allowed()).as("same namespace only").isFalse();
        NetworkPolicyEvaluator nsOnly = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}, "
                + "policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: "
                + "{kubernetes.io/metadata.name: blog}}}]}]}");
        assertThat(nsOnly.egress(WEB, pod(OTHER_NS), 5432, "TCP").allowed()).isTrue();
        assertThat(nsOnly.egress(WEB, pod(DB), 5432, "TCP").allowed()).isFalse();
        NetworkPolicyEvaluator both = policies("metadata: {name: p, namespace: shop}\nspec: {podSelector: {}, "
                + "policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: "
                + "{kubernetes.io/metadata.name: blog}}, podSelector: {matchLabels: {app: web}}}]}]}");
        assertThat(both.egress(WEB, pod(OTHER_NS), 5432, "TCP").allowed()).as("blog pod is app=db").isFalse();
        assertThat(both.egress(WEB, ip("10.0.0.1"), 5432, "TCP").allowed()).as("selectors match pods only").isFalse();
    }

    @Test
    void portsProtocolDefaultsToTcpPortRangesAndAbsentMeansAll() {
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{port: 53}]"), 53, "TCP")).isTrue();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{port: 53}]"), 53, "UDP")).isFalse();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{protocol: UDP}]"), 5353, "UDP")).isTrue();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{port: 8000, endPort: 8100}]"), 8050, "TCP")).isTrue();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{port: 8000, endPort: 8100}]"), 8101, "TCP")).isFalse();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[{port: https}]"), 443, "TCP")).as("named").isFalse();
        assertThat(NetworkPolicyEvaluator.portsMatch(json("[]"), 1, "SCTP")).isTrue();
    }

    @Test
    void policiesAreAdditive() throws Exception {
        NetworkPolicyEvaluator e = policies(
                "metadata: {name: a, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Egress], egress: [{to: "
                        + "[{ipBlock: {cidr: 10.0.0.0/8}}]}]}",
                "metadata: {name: b, namespace: shop}\nspec: {podSelector: {matchLabels: {app: web}}, policyTypes: "
                        + "[Egress], egress: [{ports: [{port: 443}]}]}");
        assertThat(e.egress(WEB, ip("198.51.100.1"), 443, "TCP")).isEqualTo(new NetworkPolicyEvaluator.Verdict(true,
                "allowed by NetworkPolicy shop/b egress[0]"));
        assertThat(e.egress(DB, ip("198.51.100.1"), 443, "TCP").allowed()).isFalse();
        assertThat(e.egress(DB, ip("10.9.9.9"), 1, "UDP").allowed()).isTrue();
    }

    private static JsonNode json(String yaml) {
        try {
            return YAML.readTree(yaml);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
