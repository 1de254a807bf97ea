package io.meshegress.explain;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * {@code check --workload} and {@code /explain?workload=} read text from anyone. Invariants: nothing throws; a
 * refusal is one bounded line; a question read back from what it displays is the same question; the namespace
 * always carries the name label Kubernetes gives it, with its own name.
 */
class WorkloadQuestionFuzzTest {

    @FuzzTest
    void questions(FuzzedDataProvider data) {
        String namespaceLabels = data.consumeBoolean() ? null : data.consumeString(200);
        String workload = data.consumeRemainingAsString();
        WorkloadQuestion.Parsed parsed = WorkloadQuestion.parse(workload, namespaceLabels);
        if (parsed instanceof WorkloadQuestion.Invalid invalid) {
            assertThat(invalid.reason()).doesNotContain("\n", "\r");
            assertThat(invalid.reason().length()).isLessThan(400);
        } else {
            WorkloadQuestion q = ((WorkloadQuestion.Valid) parsed).question();
            WorkloadQuestion.Parsed again = WorkloadQuestion.parse(q.display(), namespaceLabels);
            assertThat(again).isEqualTo(parsed);
            assertThat(q.workload().namespaceLabels()).containsEntry(WorkloadQuestion.NAME_LABEL, q.namespace());
            assertThat(q.assumption("x")).doesNotContain("\n");
        }
    }
}
