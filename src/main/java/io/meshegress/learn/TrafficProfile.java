package io.meshegress.learn;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a set of access logs says each role reached: per role and host, the ports and how often, and how much of
 * it only report mode let through. Every line is accounted for: taken, refused (never proposed), older than
 * {@code --since}, or not an access-log line at all (counted, with the first line numbers kept for the report).
 */
public final class TrafficProfile {
    static final int LINE_NUMBERS_KEPT = 10;

    /** One host as one role used it. */
    public static final class HostUse {
        final TreeMap<Integer, Long> ports = new TreeMap<>();
        /** Ports reached by CONNECT (the only kind with a port rule beyond the name's). */
        final java.util.TreeSet<Integer> connectPorts = new java.util.TreeSet<>();
        long count;
        long wouldRefuse;

        public long count() {
            return count;
        }
    }

    private final Instant since;
    private final Map<String, TreeMap<String, HostUse>> byRole = new TreeMap<>();
    private long lines;
    private long taken;
    private long reportOnly;
    private long refused;
    private long older;
    private long notAccessLog;
    private final List<String> notAccessLogAt = new ArrayList<>();

    /** @param since lines before this instant are counted but not used (null: all) */
    public TrafficProfile(Instant since) {
        this.since = since;
    }

    /** One line of input; {@code where} names it ({@code file:line}) for the report. */
    public void add(String line, String where) {
        lines++;
        if (line.isBlank()) {
            notAccessLog(where);
            return;
        }
        Optional<LoggedConnection> parsed = LoggedConnection.parse(line);
        if (parsed.isEmpty()) {
            notAccessLog(where);
            return;
        }
        LoggedConnection c = parsed.get();
        if (since != null && c.time().isBefore(since)) {
            older++;
            return;
        }
        if (!c.allowed() || c.host() == null) {
            refused++;
            return;
        }
        taken++;
        HostUse use = byRole.computeIfAbsent(c.role(), r -> new TreeMap<>()).computeIfAbsent(c.host(), h -> new HostUse());
        use.count++;
        use.ports.merge(c.port(), 1L, Long::sum);
        if (c.kind().equals("connect")) {
            use.connectPorts.add(c.port());
        }
        if (c.wouldRefuse() != null) {
            use.wouldRefuse++;
            reportOnly++;
        }
    }

    private void notAccessLog(String where) {
        notAccessLog++;
        if (notAccessLogAt.size() < LINE_NUMBERS_KEPT) {
            notAccessLogAt.add(where);
        }
    }

    /** Roles seen, in name order, each with its hosts in name order. */
    public Map<String, TreeMap<String, HostUse>> byRole() {
        return byRole;
    }

    /** One paragraph accounting for every line read. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(lines).append(" lines read: ").append(taken).append(" allowed connections used (").append(reportOnly)
                .append(" of them allowed only by report mode), ").append(refused)
                .append(" refused (never proposed: a refusal may be an attack), ").append(older)
                .append(" older than --since, ").append(notAccessLog).append(" not access-log JSON");
        if (!notAccessLogAt.isEmpty()) {
            s.append(" (").append(String.join(", ", notAccessLogAt)).append(notAccessLog > notAccessLogAt.size()
                    ? ", ..." : "").append(")");
        }
        return s.toString();
    }

    public long notAccessLogLines() {
        return notAccessLog;
    }
}
