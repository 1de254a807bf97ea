package io.meshegress.explain;

import io.meshegress.policy.LabelSelector;
import io.meshegress.policy.Workload;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A workload asked about without a cluster ({@code check --workload}, {@code /explain?workload=}): a pod of
 * namespace NS running as service account SA, with the pod labels given after {@code ?}, in a namespace with the
 * labels given apart. Kubernetes labels every namespace {@code kubernetes.io/metadata.name=NAME} itself (since
 * 1.21, and the label cannot be changed), so that one is always assumed; no other namespace label is, and the
 * answer says which labels it assumed. Pure: parsed here, judged by the route table.
 *
 * @param namespaceLabelsGiven the namespace labels the asker gave (the assumed one aside), in the order given
 */
public record WorkloadQuestion(String namespace, String serviceAccount, Map<String, String> podLabels,
                               Map<String, String> namespaceLabelsGiven) {
    /** The syntax, as errors and help texts show it. */
    public static final String SYNTAX = "NS/SA[?KEY=VALUE,...]";
    /** The label the API server puts on every namespace, with the namespace's name as its value. */
    public static final String NAME_LABEL = "kubernetes.io/metadata.name";

    // A namespace name is a DNS label (RFC 1123); a service account's name a DNS subdomain.
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    public WorkloadQuestion {
        podLabels = java.util.Collections.unmodifiableMap(new TreeMap<>(podLabels));
        namespaceLabelsGiven = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(namespaceLabelsGiven));
    }

    /** A question read, or why it could not be. */
    public sealed interface Parsed {
    }

    public record Valid(WorkloadQuestion question) implements Parsed {
    }

    /** @param reason one line, without the value itself (the caller names where it came from) */
    public record Invalid(String reason) implements Parsed {
    }

    /**
     * {@code NS/SA[?KEY=VALUE,...]} and the namespace's labels {@code KEY=VALUE,...} (null or empty: none but
     * the one Kubernetes sets).
     */
    public static Parsed parse(String workload, String namespaceLabels) {
        String text = workload.strip();
        int query = text.indexOf('?');
        String head = query < 0 ? text : text.substring(0, query);
        int slash = head.indexOf('/');
        if (slash < 0) {
            return new Invalid("no service account (write NS/SA, e.g. " + (DNS_LABEL.matcher(head).matches()
                    ? head : "payments") + "/default for the namespace's default one)");
        }
        String namespace = head.substring(0, slash);
        String serviceAccount = head.substring(slash + 1);
        if (!DNS_LABEL.matcher(namespace).matches()) {
            return new Invalid("namespace " + quote(namespace) + " is not a Kubernetes namespace name (lower-case "
                    + "letters, digits and '-', at most 63)");
        }
        if (serviceAccount.length() > 253 || !DNS_SUBDOMAIN.matcher(serviceAccount).matches()) {
            return new Invalid("service account " + quote(serviceAccount) + " is not a Kubernetes service account "
                    + "name (lower-case letters, digits, '-' and '.', at most 253)");
        }
        Map<String, String> pod = new TreeMap<>();
        if (query >= 0) {
            String labels = text.substring(query + 1);
            if (labels.isEmpty()) {
                return new Invalid("no pod label after '?' (write KEY=VALUE,... or leave out the '?')");
            }
            String error = labels("pod label", labels, pod);
            if (error != null) {
                return new Invalid(error);
            }
        }
        Map<String, String> ns = new LinkedHashMap<>();
        if (namespaceLabels != null && !namespaceLabels.isBlank()) {
            String error = labels("namespace label", namespaceLabels.strip(), ns);
            if (error != null) {
                return new Invalid(error);
            }
            String named = ns.get(NAME_LABEL);
            if (named != null && !named.equals(namespace)) {
                return new Invalid("namespace label " + NAME_LABEL + "=" + quote(named) + ": Kubernetes sets it to "
                        + "the namespace's own name, " + namespace);
            }
            ns.remove(NAME_LABEL);
        }
        return new Valid(new WorkloadQuestion(namespace, serviceAccount, pod, ns));
    }

    /** {@code KEY=VALUE,...} into {@code into}; null, or the first problem. */
    private static String labels(String what, String text, Map<String, String> into) {
        for (String pair : text.split(",", -1)) {
            int eq = pair.indexOf('=');
            if (eq < 0) {
                return what + " " + quote(pair) + " is not KEY=VALUE";
            }
            String key = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            // The checks' own messages quote the raw text; these quote it shortly, escaped, on one line.
            try {
                LabelSelector.checkKey(key);
            } catch (IllegalArgumentException e) {
                return what + " key " + quote(key) + " is not a label key ([PREFIX/]NAME: NAME at most 63 letters, "
                        + "digits, '-', '_' or '.', beginning and ending with a letter or digit; PREFIX a DNS subdomain)";
            }
            try {
                LabelSelector.checkValue(value);
            } catch (IllegalArgumentException e) {
                return what + " value " + quote(value) + " is not a label value (empty, or at most 63 letters, "
                        + "digits, '-', '_' or '.', beginning and ending with a letter or digit)";
            }
            if (into.putIfAbsent(key, value) != null) {
                return what + " " + quote(key) + " is given twice";
            }
        }
        return null;
    }

    private static String quote(String s) {
        return io.meshegress.text.Quote.shortly(s);
    }

    /** Every namespace label the answer assumes: Kubernetes' own, then those given. */
    public Map<String, String> namespaceLabels() {
        Map<String, String> all = new LinkedHashMap<>();
        all.put(NAME_LABEL, namespace);
        all.putAll(namespaceLabelsGiven);
        return all;
    }

    /** The pod as the route table judges it; no pod name is known (none is needed). */
    public Workload workload() {
        return new Workload(namespace, null, serviceAccount, podLabels, namespaceLabels());
    }

    /** {@code NS/SA} and the pod labels, as asked: {@code payments/api?app=api,tier=web}. */
    public String display() {
        return namespace + "/" + serviceAccount + (podLabels.isEmpty() ? "" : "?" + pairs(podLabels));
    }

    /**
     * The line that says which namespace labels the answer assumed, and why.
     *
     * @param option how the asker gives other labels ({@code --namespace-labels}, {@code namespaceLabels=})
     */
    public String assumption(String option) {
        return "namespace " + namespace + " assumed labelled " + NAME_LABEL + "=" + namespace
                + " (Kubernetes sets it on every namespace)" + (namespaceLabelsGiven.isEmpty()
                ? " and nothing else (give others with " + option + ")"
                : " and " + pairs(namespaceLabelsGiven) + " (as given)");
    }

    private static String pairs(Map<String, String> labels) {
        StringBuilder b = new StringBuilder();
        labels.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return b.toString();
    }
}
