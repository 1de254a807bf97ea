package io.meshegress.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the patterns that match a host without looping over all of them: exact names by hash, wildcards by
 * hashing each proper suffix of the host (a name has few labels, a policy may have thousands of patterns).
 * IP literals match only exact patterns, never wildcards.
 *
 * @param <T> what each pattern stands for (a rule with its ports, say)
 */
public final class HostMatcher<T> {
    private final Map<String, List<T>> exact = new HashMap<>();
    private final Map<String, List<T>> suffix = new HashMap<>();
    private final List<T> any = new ArrayList<>();

    public HostMatcher<T> add(HostPattern pattern, T value) {
        switch (pattern.kind()) {
            case ANY:
                any.add(value);
                break;
            case EXACT:
                exact.computeIfAbsent(pattern.value(), k -> new ArrayList<>()).add(value);
                break;
            default:
                suffix.computeIfAbsent(pattern.value(), k -> new ArrayList<>()).add(value);
                break;
        }
        return this;
    }

    public boolean isEmpty() {
        return exact.isEmpty() && suffix.isEmpty() && any.isEmpty();
    }

    /**
     * Every value whose pattern matches the normalized host, most specific first: exact, then the
     * longest wildcard suffix, then {@code *}.
     */
    public List<T> matches(String host) {
        List<T> out = new ArrayList<>(2);
        List<T> e = exact.get(host);
        if (e != null) {
            out.addAll(e);
        }
        if (HostPattern.isIpLiteral(host)) {
            return out;
        }
        if (!suffix.isEmpty()) {
            int dot = host.indexOf('.');
            while (dot >= 0 && dot < host.length() - 1) {
                List<T> s = suffix.get(host.substring(dot + 1));
                if (s != null) {
                    out.addAll(s);
                }
                dot = host.indexOf('.', dot + 1);
            }
        }
        out.addAll(any);
        return out;
    }
}
