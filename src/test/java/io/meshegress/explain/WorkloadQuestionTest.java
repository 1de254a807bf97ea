package io.meshegress.explain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code NS/SA[?KEY=VALUE,...]} and {@code --namespace-labels}: names as the API server accepts them (a namespace
 * is an RFC 1123 label, a service account a DNS subdomain, label keys and values as apimachinery validates them),
 * and {@code kubernetes.io/metadata.name} as Kubernetes sets it on every namespace.
 */
class WorkloadQuestionTest {

    static WorkloadQuestion valid(String workload, String namespaceLabels) {
        WorkloadQuestion.Parsed p = WorkloadQuestion.parse(workload, namespaceLabels);
        assertThat(p).isInstanceOf(WorkloadQuestion.Valid.class);
        return ((WorkloadQuestion.Valid) p).question();
    }

    @Test
    void aNamespaceAndServiceAccountWithPodLabels() {
        WorkloadQuestion q = valid("payments/api?tier=web,app=api", null);
        assertThat(q.namespace()).isEqualTo("payments");
        assertThat(q.serviceAccount()).isEqualTo("api");
        assertThat(q.podLabels()).isEqualTo(Map.of("app", "api", "tier", "web"));
        assertThat(q.display()).isEqualTo("payments/api?app=api,tier=web");
        assertThat(q.workload().podLabels()).isEqualTo(Map.of("app", "api", "tier", "web"));
        assertThat(q.workload().serviceAccount()).isEqualTo("api");
    }

    @Test
    void everyNamespaceCarriesItsNameLabelAndOnlyTheLabelsGivenBesides() {
        WorkloadQuestion bare = valid("payments/default", null);
        assertThat(bare.podLabels()).isEmpty();
        assertThat(bare.namespaceLabels()).isEqualTo(Map.of("kubernetes.io/metadata.name", "payments"));
        assertThat(bare.assumption("--namespace-labels")).isEqualTo("namespace payments assumed labelled "
                + "kubernetes.io/metadata.name=payments (Kubernetes sets it on every namespace) and nothing else "
                + "(give others with --namespace-labels)");

        WorkloadQuestion given = valid("payments/default", "team=pay,example.com/tier=");
        assertThat(given.workload().namespaceLabels()).isEqualTo(Map.of("kubernetes.io/metadata.name", "payments",
                "team", "pay", "example.com/tier", ""));
        assertThat(given.assumption("x")).endsWith(" and team=pay,example.com/tier= (as given)");
        // Saying what Kubernetes says anyway is allowed.
        assertThat(valid("payments/default", "kubernetes.io/metadata.name=payments").namespaceLabelsGiven()).isEmpty();
    }

    @Test
    void aLabelValueMayBeEmptyAsInKubernetes() {
        assertThat(valid("a/b?canary=", null).podLabels()).isEqualTo(Map.of("canary", ""));
    }

    @Test
    void theLongestNamesKubernetesAllows() {
        String ns = "n".repeat(63);
        String sa = "s".repeat(63) + "." + "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(61);
        assertThat(sa).hasSize(253);
        assertThat(valid(ns + "/" + sa, null).serviceAccount()).isEqualTo(sa);
    }

    @ParameterizedTest(name = "{0} | {1}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            payments              | -                    | no service account (write NS/SA, e.g. payments/default for the namespace's default one)
            Payments/api          | -                    | namespace "Payments" is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)
            pay.ments/api         | -                    | namespace "pay.ments" is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)
            /api                  | -                    | namespace "" is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)
            payments/             | -                    | service account "" is not a Kubernetes service account name (lower-case letters, digits, '-' and '.', at most 253)
            payments/api/x        | -                    | service account "api/x" is not a Kubernetes service account name (lower-case letters, digits, '-' and '.', at most 253)
            payments/API          | -                    | service account "API" is not a Kubernetes service account name (lower-case letters, digits, '-' and '.', at most 253)
            payments/api?         | -                    | no pod label after '?' (write KEY=VALUE,... or leave out the '?')
            payments/api?app      | -                    | pod label "app" is not KEY=VALUE
            payments/api?app=a,   | -                    | pod label "" is not KEY=VALUE
            payments/api?a=1,a=2  | -                    | pod label "a" is given twice
            payments/api?-app=a   | -                    | pod label key "-app" is not a label key ([PREFIX/]NAME: NAME at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit; PREFIX a DNS subdomain)
            payments/api?Ex.com/a=b | -                  | pod label key "Ex.com/a" is not a label key ([PREFIX/]NAME: NAME at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit; PREFIX a DNS subdomain)
            payments/api?app=a b  | -                    | pod label value "a b" is not a label value (empty, or at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit)
            payments/api?a=b      | x/y/z=1              | namespace label key "x/y/z" is not a label key ([PREFIX/]NAME: NAME at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit; PREFIX a DNS subdomain)
            payments/api?a=b      | k=""                 | namespace label value "\\"\\"" is not a label value (empty, or at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit)
            payments/api          | team                 | namespace label "team" is not KEY=VALUE
            payments/api          | kubernetes.io/metadata.name=search | namespace label kubernetes.io/metadata.name="search": Kubernetes sets it to the namespace's own name, payments
            """)
    void badSyntaxIsOneLineThatSaysWhat(String workload, String namespaceLabels, String reason) {
        WorkloadQuestion.Parsed p = WorkloadQuestion.parse(workload, namespaceLabels);
        assertThat(p).isInstanceOf(WorkloadQuestion.Invalid.class);
        String got = ((WorkloadQuestion.Invalid) p).reason();
        assertThat(got.lines()).hasSize(1);
        assertThat(got).isEqualTo(reason);
    }

    @Test
    void aNamespaceNameLongerThan63IsRefused() {
        assertThat(WorkloadQuestion.parse("n".repeat(64) + "/api", null)).isInstanceOf(WorkloadQuestion.Invalid.class);
        assertThat(WorkloadQuestion.parse("a/" + "s".repeat(254), null)).isInstanceOf(WorkloadQuestion.Invalid.class);
    }

    @Test
    void controlCharactersNeverReachTheMessageAndAHugeValueIsCutShort() {
        WorkloadQuestion.Parsed p = WorkloadQuestion.parse("pay\nments/api", null);
        assertThat(((WorkloadQuestion.Invalid) p).reason()).contains("\\x0a").doesNotContain("\n");
        for (String label : List.of("a\nb=c", "a=b\nc", "k".repeat(5000) + "=v", "k=" + "v".repeat(5000))) {
            String reason = ((WorkloadQuestion.Invalid) WorkloadQuestion.parse("a/b?" + label, label)).reason();
            assertThat(reason).doesNotContain("\n").hasSizeLessThan(300);
        }
    }
}
