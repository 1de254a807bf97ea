package io.meshegress.learn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.policy.HostPattern;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The fields of one access-log line that learning needs, from either format the proxy writes (a JSON object, or
 * the text line of {@code accessLog.format: text}, read by {@link TextAccessLine}). A line is taken only when it
 * is an access-log entry as mesh-egress writes it (time, kind, decision, port, a host that is a valid host name,
 * and where it names a pod, a namespace and service account Kubernetes could have named); anything else is "not
 * an access-log line" and counted by the caller, never guessed at.
 *
 * @param role           {@code default} for lines written before roles existed
 * @param wouldRefuse    what enforce mode would have refused (report mode), or null
 * @param namespace      the client pod's namespace, or null when the client was no known pod (or no
 *                       identity.kubernetes named clients)
 * @param serviceAccount the client pod's service account, null exactly when {@code namespace} is
 */
public record LoggedConnection(Instant time, String role, String kind, String host, int port, boolean allowed,
                               String wouldRefuse, String namespace, String serviceAccount) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Role names and namespaces alike: a DNS-1123 label, as the loader reads both. */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    /** A service account's name: a DNS-1123 subdomain, as Kubernetes validates it. */
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    /** The connection a line records, or empty when the line is not a mesh-egress access-log entry. */
    public static Optional<LoggedConnection> parse(String line) {
        return line.startsWith("{") ? parseJson(line) : TextAccessLine.parse(line);
    }

    private static Optional<LoggedConnection> parseJson(String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (n == null || !n.isObject() || !n.path("time").isTextual() || !n.path("kind").isTextual()
                || !n.path("decision").isTextual() || !n.path("port").canConvertToInt()) {
            return Optional.empty();
        }
        JsonNode host = n.get("host");
        if (host != null && !host.isTextual() && !host.isNull()) {
            return Optional.empty();
        }
        return of(n.get("time").asText(), textOrNull(n, "role"), n.get("kind").asText(),
                host == null || host.isNull() ? null : host.asText(), n.get("port").asInt(),
                n.get("decision").asText(), textOrNull(n, "wouldRefuse"), textOrNull(n, "namespace"),
                textOrNull(n, "serviceAccount"));
    }

    private static String textOrNull(JsonNode n, String field) {
        return n.path(field).isTextual() ? n.get(field).asText() : null;
    }

    /**
     * A connection from the fields as a line carries them (null: the field is absent), or empty when no line the
     * proxy writes could carry them.
     */
    static Optional<LoggedConnection> of(String timeText, String role, String kind, String host, int port,
                                         String decision, String wouldRefuse, String namespace,
                                         String serviceAccount) {
        if (!decision.equals("allowed") && !decision.equals("refused")) {
            return Optional.empty();
        }
        Instant time;
        try {
            time = Instant.parse(timeText);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
        String normalized = host == null ? null : HostPattern.normalizeHost(host).orElse(null);
        if (host != null && normalized == null) {
            return Optional.empty(); // the proxy logs only valid names there: this line was not written by it
        }
        if (port < 0 || port > 65535 || (port == 0 && decision.equals("allowed"))) {
            return Optional.empty(); // the proxy never lets a connection through to port 0
        }
        String roleName = role == null ? "default" : role;
        if (!DNS_LABEL.matcher(roleName).matches()) {
            return Optional.empty(); // the proxy writes only names the config allows (and they end up in YAML)
        }
        // A pod is named by both or neither, each as Kubernetes validates it (they end up in YAML too).
        if ((namespace == null) != (serviceAccount == null) || (namespace != null
                && (!DNS_LABEL.matcher(namespace).matches() || serviceAccount.length() > 253
                || !DNS_SUBDOMAIN.matcher(serviceAccount).matches()))) {
            return Optional.empty();
        }
        return Optional.of(new LoggedConnection(time, roleName, kind, normalized, port, decision.equals("allowed"),
                wouldRefuse, namespace, serviceAccount));
    }
}
