package io.meshegress.learn;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a set of access logs says each role reached: per role and host, the ports and how often, and how much of
 * it only report mode let through. With a {@link Grouping} by namespace or service account, the lines of pods
 * (those that name a namespace) are kept per workload group instead, whatever role they had; the lines of
 * clients that were no known pod are kept by their role as ever. Every line is accounted for: taken, refused (never proposed), older than
 * {@code --since}, too long, not an access-log line at all, or beyond the memory bound (each counted, with the
 * first places kept for the report). Memory is bounded whatever the input: at most {@link #MAX_HOSTS} hosts and
 * {@link #MAX_HOST_PORTS} host ports over all roles and groups together are kept; a connection to anything beyond is counted as
 * dropped, and its host is not proposed (leaving out only ever narrows a proposal).
 */
public final class TrafficProfile {
    static final int PLACES_KEPT = 10;
    /** How pods' lines are grouped. */
    public enum Grouping {
        /** By the role each line had (no grouping of pods). */
        ROLE,
        /** By the client pod's namespace. */
        NAMESPACE,
        /** By the client pod's namespace and service account. */
        SERVICE_ACCOUNT
    }

    /**
     * A group of pods as learn proposes a role for it.
     *
     * @param serviceAccount null when grouped by namespace alone
     */
    public record WorkloadGroup(String namespace, String serviceAccount) implements Comparable<WorkloadGroup> {
        @Override
        public int compareTo(WorkloadGroup o) {
            int ns = namespace.compareTo(o.namespace);
            return ns != 0 ? ns : String.valueOf(serviceAccount).compareTo(String.valueOf(o.serviceAccount));
        }

        @Override
        public String toString() {
            return "namespace " + namespace + (serviceAccount == null ? "" : ", service account " + serviceAccount);
        }
    }

    /** Distinct (role or group, host) pairs kept: a host name is at most 253 bytes, so this is some 20 MB at most. */
    public static final int MAX_HOSTS = 50_000;
    /** Distinct (role or group, host, port) triples kept. */
    public static final int MAX_HOST_PORTS = 100_000;

    /** One host as one role used it. */
    public static final class HostUse {
        final TreeMap<Integer, Long> ports = new TreeMap<>();
        /** Ports reached by CONNECT (the only kind with a port rule beyond the name's). */
        final TreeSet<Integer> connectPorts = new TreeSet<>();
        long count;
        long wouldRefuse;

        public long count() {
            return count;
        }

        /** Every port the role reached this host on, by any listener kind. */
        public TreeSet<Integer> ports() {
            return new TreeSet<>(ports.keySet());
        }
    }

    private final Instant since;
    private final Grouping grouping;
    private final Map<String, TreeMap<String, HostUse>> byRole = new TreeMap<>();
    private final Map<WorkloadGroup, TreeMap<String, HostUse>> byWorkload = new TreeMap<>();
    private long noPod;
    private int hosts;
    private int hostPorts;
    private long lines;
    private long taken;
    private long reportOnly;
    private long refused;
    private long older;
    private final Places notAccessLog = new Places();
    private final Places tooLong = new Places();
    private final Places dropped = new Places();
    private final List<String> readErrors = new ArrayList<>();

    /** Places (file:line) of one kind of line: how many, and the first few for the report. */
    private static final class Places {
        long count;
        final List<String> first = new ArrayList<>();

        void add(String where) {
            count++;
            if (first.size() < PLACES_KEPT) {
                first.add(where);
            }
        }

        String said() {
            return first.isEmpty() ? "" : " (" + String.join(", ", first) + (count > first.size() ? ", ..." : "")
                    + ")";
        }
    }

    /** @param since lines before this instant are counted but not used (null: all) */
    public TrafficProfile(Instant since) {
        this(since, Grouping.ROLE);
    }

    /** @param since lines before this instant are counted but not used (null: all) */
    public TrafficProfile(Instant since, Grouping grouping) {
        this.since = since;
        this.grouping = grouping;
    }

    /** One line of input; {@code where} names it ({@code file:line}) for the report. */
    public void add(String line, String where) {
        lines++;
        if (line.isBlank()) {
            notAccessLog.add(where);
            return;
        }
        Optional<LoggedConnection> parsed = LoggedConnection.parse(line);
        if (parsed.isEmpty()) {
            notAccessLog.add(where);
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
        HostUse use = kept(c, where);
        if (use == null) {
            return;
        }
        taken++;
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

    /** The host's record, made if the bounds allow; null (and the line counted as dropped) when they do not. */
    private HostUse kept(LoggedConnection c, String where) {
        WorkloadGroup group = grouping == Grouping.ROLE || c.namespace() == null ? null : new WorkloadGroup(
                c.namespace(), grouping == Grouping.SERVICE_ACCOUNT ? c.serviceAccount() : null);
        TreeMap<String, HostUse> groupHosts = group == null ? byRole.get(c.role()) : byWorkload.get(group);
        HostUse use = groupHosts == null ? null : groupHosts.get(c.host());
        boolean newHost = use == null;
        boolean newPort = newHost || !use.ports.containsKey(c.port());
        if ((newHost && hosts >= MAX_HOSTS) || (newPort && hostPorts >= MAX_HOST_PORTS)) {
            dropped.add(where);
            return null;
        }
        if (newHost) {
            hosts++;
            use = (group == null ? byRole.computeIfAbsent(c.role(), r -> new TreeMap<>())
                    : byWorkload.computeIfAbsent(group, g -> new TreeMap<>())).computeIfAbsent(c.host(),
                    h -> new HostUse());
        }
        if (newPort) {
            hostPorts++;
        }
        if (grouping != Grouping.ROLE && group == null) {
            noPod++;
        }
        return use;
    }

    /** A line longer than {@link BoundedLines#MAX_LINE}, skipped unread. */
    public void tooLong(String where) {
        lines++;
        tooLong.add(where);
    }

    /** A file that could not be read to its end (a truncated gzip, say): what was read before counts. */
    public void readError(String file, String error) {
        readErrors.add(file + ": " + error);
    }

    /**
     * Roles seen, in name order, each with its hosts in name order (with a grouping, the lines of clients that
     * were no known pod).
     */
    public Map<String, TreeMap<String, HostUse>> byRole() {
        return byRole;
    }

    /** Workload groups seen (none without a grouping), in order, each with its hosts in name order. */
    public Map<WorkloadGroup, TreeMap<String, HostUse>> byWorkload() {
        return byWorkload;
    }

    public Grouping grouping() {
        return grouping;
    }

    /** One paragraph accounting for every line read. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(lines).append(" lines read: ").append(taken).append(" allowed connections used (").append(reportOnly)
                .append(" of them allowed only by report mode), ").append(refused)
                .append(" refused (never proposed: a refusal may be an attack), ").append(older)
                .append(" older than --since, ").append(notAccessLog.count).append(" not access-log lines")
                .append(notAccessLog.said());
        if (grouping != Grouping.ROLE) {
            s.append("; ").append(byWorkload.size()).append(" groups by ")
                    .append(grouping == Grouping.NAMESPACE ? "namespace" : "namespace and service account")
                    .append(", ").append(noPod).append(" allowed connections of clients that were no known pod "
                            + "(no namespace logged) learned by the role they had");
        }
        if (tooLong.count > 0) {
            s.append(", ").append(tooLong.count).append(" longer than ").append(BoundedLines.MAX_LINE)
                    .append(" bytes, skipped").append(tooLong.said());
        }
        if (dropped.count > 0) {
            s.append(", ").append(dropped.count).append(" allowed connections dropped, their hosts not proposed: "
                    + "beyond the ").append(MAX_HOSTS).append(" hosts or ").append(MAX_HOST_PORTS)
                    .append(" host ports learn keeps").append(dropped.said());
        }
        if (!readErrors.isEmpty()) {
            s.append("; read only in part (what was read is used): ").append(String.join("; ", readErrors));
        }
        return s.toString();
    }

    public long notAccessLogLines() {
        return notAccessLog.count;
    }

    public long tooLongLines() {
        return tooLong.count;
    }

    public long droppedConnections() {
        return dropped.count;
    }
}
