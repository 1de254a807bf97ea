package io.meshegress.learn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.policy.HostPattern;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The fields of one JSON access-log line that learning needs. A line is taken only when it is an access-log
 * entry as mesh-egress writes it (time, kind, decision, port, and a host that is a valid host name); anything
 * else is "not an access-log line" and counted by the caller, never guessed at.
 *
 * @param role        {@code default} for lines written before roles existed
 * @param wouldRefuse what enforce mode would have refused (report mode), or null
 */
public record LoggedConnection(Instant time, String role, String kind, String host, int port, boolean allowed,
                               String wouldRefuse) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.regex.Pattern ROLE_NAME = java.util.regex.Pattern.compile(
            "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /** The connection a line records, or empty when the line is not a mesh-egress JSON access-log entry. */
    public static Optional<LoggedConnection> parse(String line) {
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
        String decision = n.get("decision").asText();
        if (!decision.equals("allowed") && !decision.equals("refused")) {
            return Optional.empty();
        }
        Instant time;
        try {
            time = Instant.parse(n.get("time").asText());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
        JsonNode host = n.get("host");
        String normalized = host == null || !host.isTextual() ? null
                : HostPattern.normalizeHost(host.asText()).orElse(null);
        if (host != null && host.isTextual() && normalized == null) {
            return Optional.empty(); // the proxy logs only valid names there: this line was not written by it
        }
        int port = n.get("port").asInt();
        if (port < 0 || port > 65535 || (port == 0 && decision.equals("allowed"))) {
            return Optional.empty(); // the proxy never lets a connection through to port 0
        }
        String role = n.path("role").isTextual() ? n.get("role").asText() : "default";
        if (!ROLE_NAME.matcher(role).matches()) {
            return Optional.empty(); // the proxy writes only names the config allows (and they end up in YAML)
        }
        String wouldRefuse = n.path("wouldRefuse").isTextual() ? n.get("wouldRefuse").asText() : null;
        return Optional.of(new LoggedConnection(time, role, n.get("kind").asText(), normalized, port,
                decision.equals("allowed"), wouldRefuse));
    }
}
