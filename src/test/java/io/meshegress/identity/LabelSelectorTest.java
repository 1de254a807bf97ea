package io.meshegress.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.policy.LabelSelector;
import io.meshegress.policy.LabelSelector.Operator;
import io.meshegress.policy.LabelSelector.Requirement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Label selectors as the Kubernetes documentation defines them ("Labels and Selectors", and the API reference of
 * LabelSelector / LabelSelectorRequirement): requirements ANDed, an empty selector matches everything, NotIn
 * matches objects without the key, Exists/DoesNotExist look at the key alone. The expected answers are the
 * documentation's examples, not this code's.
 */
class LabelSelectorTest {

    private static Requirement req(String key, Operator op, String... values) {
        return new Requirement(key, op, Set.of(values));
    }

    private static LabelSelector expressions(Requirement... rs) {
        return LabelSelector.of(Map.of(), List.of(rs));
    }

    @Test
    void anEmptySelectorMatchesEveryObject() {
        assertThat(LabelSelector.of(Map.of(), List.of()).matches(Map.of())).isTrue();
        assertThat(LabelSelector.of(Map.of(), List.of()).matches(Map.of("app", "x"))).isTrue();
    }

    @Test
    void matchLabelsIsEqualityAndEveryPairMustHold() {
        LabelSelector s = LabelSelector.of(Map.of("app", "api", "tier", "web"), List.of());
        assertThat(s.matches(Map.of("app", "api", "tier", "web", "extra", "1"))).isTrue();
        assertThat(s.matches(Map.of("app", "api"))).isFalse();
        assertThat(s.matches(Map.of("app", "api", "tier", "db"))).isFalse();
    }

    @Test
    void inNeedsTheKeyWithOneOfTheValues() {
        // docs: "environment in (production, qa)"
        LabelSelector s = expressions(req("environment", Operator.IN, "production", "qa"));
        assertThat(s.matches(Map.of("environment", "qa"))).isTrue();
        assertThat(s.matches(Map.of("environment", "dev"))).isFalse();
        assertThat(s.matches(Map.of())).isFalse();
    }

    @Test
    void notInAlsoMatchesObjectsWithoutTheKey() {
        // docs: "tier notin (frontend, backend)" selects "all resources with key equal to tier and values other
        // than frontend and backend, and all resources with no labels with the tier key"
        LabelSelector s = expressions(req("tier", Operator.NOT_IN, "frontend", "backend"));
        assertThat(s.matches(Map.of("tier", "cache"))).isTrue();
        assertThat(s.matches(Map.of("app", "x"))).isTrue();
        assertThat(s.matches(Map.of("tier", "frontend"))).isFalse();
    }

    @Test
    void existsAndDoesNotExistLookAtTheKeyOnly() {
        assertThat(expressions(req("partition", Operator.EXISTS)).matches(Map.of("partition", ""))).isTrue();
        assertThat(expressions(req("partition", Operator.EXISTS)).matches(Map.of())).isFalse();
        assertThat(expressions(req("partition", Operator.DOES_NOT_EXIST)).matches(Map.of())).isTrue();
        assertThat(expressions(req("partition", Operator.DOES_NOT_EXIST)).matches(Map.of("partition", "a"))).isFalse();
    }

    @Test
    void matchLabelsAndMatchExpressionsAreAnded() {
        // the API reference's example: matchLabels {component: redis}, tier In [cache], environment NotIn [dev]
        LabelSelector s = LabelSelector.of(Map.of("component", "redis"), List.of(
                req("tier", Operator.IN, "cache"), req("environment", Operator.NOT_IN, "dev")));
        assertThat(s.matches(Map.of("component", "redis", "tier", "cache"))).isTrue();
        assertThat(s.matches(Map.of("component", "redis", "tier", "cache", "environment", "dev"))).isFalse();
        assertThat(s.matches(Map.of("tier", "cache"))).isFalse();
    }

    @Test
    void operatorsAreSpelledAsInKubernetesAndCaseMatters() {
        assertThat(Operator.named("NotIn")).isEqualTo(Operator.NOT_IN);
        assertThatThrownBy(() -> Operator.named("notin"))
                .hasMessage("\"notin\" is not In, NotIn, Exists or DoesNotExist");
    }

    @Test
    void valuesAreRequiredOrForbiddenByTheOperator() {
        // "If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or
        // DoesNotExist, the values array must be empty."
        assertThatThrownBy(() -> expressions(req("a", Operator.IN))).hasMessage("In needs at least one value");
        assertThatThrownBy(() -> expressions(req("a", Operator.NOT_IN))).hasMessage("NotIn needs at least one value");
        assertThatThrownBy(() -> expressions(req("a", Operator.EXISTS, "x"))).hasMessage("Exists takes no values");
        assertThatThrownBy(() -> expressions(req("a", Operator.DOES_NOT_EXIST, "x")))
                .hasMessage("DoesNotExist takes no values");
    }

    @Test
    void keysAndValuesFollowTheApiServersSyntax() {
        // valid: an optional DNS-subdomain prefix, a name of at most 63 characters; values may be empty
        LabelSelector.checkKey("app.kubernetes.io/name");
        LabelSelector.checkKey("a_b.c-d");
        LabelSelector.checkValue("");
        LabelSelector.checkValue("v1.2_3-x");
        assertThatThrownBy(() -> LabelSelector.checkKey("-app")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LabelSelector.checkKey("Example.COM/app")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LabelSelector.checkKey("x".repeat(64))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LabelSelector.checkKey("/app")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LabelSelector.checkValue("a b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LabelSelector.checkValue("x".repeat(64))).isInstanceOf(IllegalArgumentException.class);
    }
}
