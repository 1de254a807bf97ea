package io.meshegress.policy;

import io.meshegress.text.Quote;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Kubernetes label selector (metav1.LabelSelector): {@code matchLabels} and {@code matchExpressions}, all of
 * them ANDed; an empty selector matches every set of labels. The semantics are apimachinery's
 * ({@code labels.Requirement.Matches}): {@code In} needs the key with one of the values, {@code NotIn} matches
 * when the key is absent or holds none of them, {@code Exists} and {@code DoesNotExist} look at the key only.
 * Keys and values are checked as the API server checks them, so a selector that Kubernetes would reject is a
 * configuration error here too. Immutable.
 */
public final class LabelSelector {
    public static final LabelSelector EVERYTHING = new LabelSelector(List.of());

    /** The four operators, spelled as in Kubernetes (case matters there too). */
    public enum Operator {
        IN("In"), NOT_IN("NotIn"), EXISTS("Exists"), DOES_NOT_EXIST("DoesNotExist");

        private final String spelling;

        Operator(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }

        /** The operator written {@code text}, or an error that lists the four. */
        public static Operator named(String text) {
            for (Operator o : values()) {
                if (o.spelling.equals(text)) {
                    return o;
                }
            }
            throw new IllegalArgumentException(Quote.shortly(text) + " is not In, NotIn, Exists or DoesNotExist");
        }
    }

    /** One requirement on one label key. */
    public record Requirement(String key, Operator operator, Set<String> values) {
        public Requirement {
            values = Set.copyOf(values);
        }

        public boolean matches(Map<String, String> labels) {
            return switch (operator) {
                case IN -> labels.containsKey(key) && values.contains(labels.get(key));
                case NOT_IN -> !labels.containsKey(key) || !values.contains(labels.get(key));
                case EXISTS -> labels.containsKey(key);
                case DOES_NOT_EXIST -> !labels.containsKey(key);
            };
        }
    }

    // apimachinery's validation: a qualified name (optional DNS-subdomain prefix and "/") and label values.
    private static final Pattern NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private final List<Requirement> requirements;

    private LabelSelector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    /**
     * A selector from its two halves, checked: label keys and values valid, {@code In}/{@code NotIn} with at least
     * one value, {@code Exists}/{@code DoesNotExist} with none.
     *
     * @throws IllegalArgumentException with the one-line reason
     */
    public static LabelSelector of(Map<String, String> matchLabels, List<Requirement> matchExpressions) {
        List<Requirement> all = new ArrayList<>();
        for (Map.Entry<String, String> e : matchLabels.entrySet()) {
            checkKey(e.getKey());
            checkValue(e.getValue());
            all.add(new Requirement(e.getKey(), Operator.IN, Set.of(e.getValue())));
        }
        for (Requirement r : matchExpressions) {
            checkKey(r.key());
            boolean needsValues = r.operator() == Operator.IN || r.operator() == Operator.NOT_IN;
            if (needsValues && r.values().isEmpty()) {
                throw new IllegalArgumentException(r.operator().spelling() + " needs at least one value");
            }
            if (!needsValues && !r.values().isEmpty()) {
                throw new IllegalArgumentException(r.operator().spelling() + " takes no values");
            }
            for (String v : r.values()) {
                checkValue(v);
            }
            all.add(r);
        }
        return new LabelSelector(all);
    }

    /** Whether every requirement holds for these labels (an empty selector: always). */
    public boolean matches(Map<String, String> labels) {
        for (Requirement r : requirements) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    public List<Requirement> requirements() {
        return requirements;
    }

    /** A label key: {@code [prefix/]name}, the name at most 63 characters, the prefix a DNS subdomain. */
    public static void checkKey(String key) {
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            if (prefix.isEmpty() || prefix.length() > 253 || !SUBDOMAIN.matcher(prefix).matches()) {
                throw new IllegalArgumentException("label key " + Quote.shortly(key) + ": the prefix before / must "
                        + "be a DNS subdomain (lower-case letters, digits, - and .)");
            }
        }
        if (name.isEmpty() || name.length() > 63 || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("label key " + Quote.shortly(key) + " is not a label name (at most "
                    + "63 letters, digits, -, _ or ., beginning and ending with a letter or digit)");
        }
    }

    /** A label value: empty, or at most 63 characters as a name. */
    public static void checkValue(String value) {
        if (!value.isEmpty() && (value.length() > 63 || !NAME.matcher(value).matches())) {
            throw new IllegalArgumentException("label value " + Quote.shortly(value) + " is not a label value "
                    + "(at most 63 letters, digits, -, _ or ., beginning and ending with a letter or digit)");
        }
    }
}
