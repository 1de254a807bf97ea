package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshegress.policy.Workload;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A role's {@code workloads} entries and their label selectors, from the loader to the role a pod gets.
 * Invariants: whatever follows {@code workloads:}, the file loads or fails with one line naming the file and
 * the line; and for entries built from fuzzed keys, values, operators and forms, the loader accepts exactly the
 * selectors Kubernetes accepts, and a loaded role selects exactly the pods Kubernetes' semantics select. Both
 * are judged by {@link KubernetesSelectors}, written in this file from the Kubernetes documentation, not from the
 * code under test.
 */
class WorkloadsFuzzTest {
    private static final String HEAD = """
            identity:
              kubernetes: {kubeconfig: /tmp/kc}
            http: {listen: "127.0.0.1:8080"}
            policy:
              allow: [common.test]
              roles:
                - name: r
                  allow: [r.test]
                  workloads:\s""";
    private static final InetAddress NO_ROLE_CLIENT = InetAddress.getLoopbackAddress();

    /** Fuzzed keys and values are drawn from here half of the time, so that selectors often load and match. */
    private static final String[] TOKENS = {"app", "api", "web", "tier", "team", "pay", "", "a", "A", "Z9",
        "example.com/app", "app.kubernetes.io/name", "pod-template-hash", "7c9d8b6f4", "istio.io/rev",
        "a/b/c", "/app", "Example.com/app", "-app", "app-", "a_b", "a.b", "a..b", "_a", "1", "x".repeat(63),
        "x".repeat(64), "p".repeat(253) + "/n", "p".repeat(254) + "/n", "a b", "é", "In", "matchLabels", "null"};
    private static final String[] OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist", "in", "notin", "Equals",
        "exists", ""};

    @FuzzTest
    void workloadsYaml(byte[] entries) {
        byte[] head = HEAD.getBytes(StandardCharsets.UTF_8);
        byte[] file = new byte[head.length + entries.length];
        System.arraycopy(head, 0, file, 0, head.length);
        System.arraycopy(entries, 0, file, head.length, entries.length);
        try {
            ConfigLoader.parse("fuzz.yaml", ConfigFile.decode("fuzz.yaml", file));
        } catch (ConfigException e) {
            assertOneLine(e);
        }
    }

    @FuzzTest
    void selectorsAgreeWithKubernetes(FuzzedDataProvider data) {
        List<KubernetesSelectors.Entry> entries = new ArrayList<>();
        int count = data.consumeInt(1, 3);
        for (int i = 0; i < count; i++) {
            entries.add(entry(data));
        }
        StringBuilder yaml = new StringBuilder(HEAD).append('[');
        for (int i = 0; i < entries.size(); i++) {
            yaml.append(i == 0 ? "" : ", ").append(entries.get(i).yaml());
        }
        yaml.append("]\n");
        boolean valid = entries.stream().allMatch(KubernetesSelectors::valid);
        EgressConfig config;
        try {
            config = ConfigLoader.parse("fuzz.yaml", yaml.toString());
        } catch (ConfigException e) {
            assertOneLine(e);
            assertThat(valid).as("Kubernetes accepts %s, the loader said %s", yaml, e.getMessage()).isFalse();
            return;
        }
        assertThat(valid).as("Kubernetes rejects %s, the loader took it", yaml).isTrue();
        var policy = config.egressPolicy();
        for (int pods = data.consumeInt(1, 4); pods > 0 && data.remainingBytes() > 0; pods--) {
            String namespace = data.consumeBoolean() ? token(data) : entries.get(0).namespace();
            String serviceAccount = data.consumeBoolean() ? token(data) : entries.get(0).serviceAccount();
            Workload pod = new Workload(namespace == null ? "ns" : namespace, "p-1",
                    serviceAccount == null ? "default" : serviceAccount, labels(data), labels(data));
            boolean selected = entries.stream().anyMatch(e -> KubernetesSelectors.selects(e, pod));
            assertThat(policy.role(NO_ROLE_CLIENT, pod).name()).as("%s for pod %s", yaml, pod)
                    .isEqualTo(selected ? "r" : "default");
        }
    }

    private static void assertOneLine(ConfigException e) {
        assertThat(e.getMessage()).matches("fuzz\\.yaml:\\d+(:\\d+)?: [^\r\n]*").hasSizeLessThan(700);
    }

    private static KubernetesSelectors.Entry entry(FuzzedDataProvider data) {
        boolean byName = data.consumeBoolean();
        String namespace = byName ? token(data) : null;
        KubernetesSelectors.Selector namespaceSelector = byName ? null : selector(data);
        String serviceAccount = data.consumeBoolean() ? token(data) : null;
        KubernetesSelectors.Selector podSelector = data.consumeBoolean() ? selector(data) : null;
        return new KubernetesSelectors.Entry(namespace, namespaceSelector, serviceAccount, podSelector);
    }

    private static KubernetesSelectors.Selector selector(FuzzedDataProvider data) {
        boolean plain = data.consumeBoolean();
        Map<String, String> matchLabels = data.consumeBoolean() ? labels(data) : null;
        if (plain) {
            return new KubernetesSelectors.Selector(true, matchLabels == null ? Map.of() : matchLabels, null);
        }
        List<KubernetesSelectors.Expression> expressions = null;
        if (data.consumeBoolean()) {
            expressions = new ArrayList<>();
            for (int n = data.consumeInt(0, 3); n > 0; n--) {
                String key = token(data);
                String operator = data.consumeBoolean() ? data.pickValue(OPERATORS) : data.consumeString(12);
                List<String> values = null;
                if (data.consumeBoolean()) {
                    values = new ArrayList<>();
                    for (int v = data.consumeInt(0, 3); v > 0; v--) {
                        values.add(token(data));
                    }
                }
                expressions.add(new KubernetesSelectors.Expression(key, operator, values));
            }
        }
        return new KubernetesSelectors.Selector(false, matchLabels, expressions);
    }

    private static Map<String, String> labels(FuzzedDataProvider data) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (int n = data.consumeInt(0, 4); n > 0; n--) {
            labels.put(token(data), token(data));
        }
        return labels;
    }

    private static String token(FuzzedDataProvider data) {
        if (data.consumeBoolean()) {
            return data.pickValue(TOKENS);
        }
        // Lone surrogates are no text a YAML file can hold; the raw target covers undecodable bytes.
        return data.consumeString(80).codePoints().map(c -> Character.isSurrogate((char) c) && c < 0x10000 ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
