package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.Durations;
import io.meshegress.config.EgressConfig;
import io.meshegress.learn.BoundedLines;
import io.meshegress.learn.ProposalYaml;
import io.meshegress.learn.TrafficProfile;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "learn", mixinStandardHelpOptions = true,
        description = "Read access logs (json or text format, plain or gzip'd; - for stdin) and print a policy "
                + "section whose allow-lists, per role, cover the traffic they show (each host on the ports it was "
                + "reached on), in enforce mode. Review it before use.")
final class LearnCommand implements Callable<Integer> {
    @Mixin
    private ConfigOption config;

    @Parameters(paramLabel = "ACCESS_LOG", arity = "1..*", description = "access-log files (json or text format); - reads stdin")
    private List<String> logs = new ArrayList<>();

    @Option(names = "--min-count", paramLabel = "N", defaultValue = "1",
            description = "leave out hosts seen fewer than N times (default: ${DEFAULT-VALUE})")
    private long minCount;

    @Option(names = "--since", paramLabel = "DURATION", description = "only lines from the last DURATION (e.g. 7d, 24h)")
    private String since;

    @Option(names = "--collapse", paramLabel = "K", description = "more than K names under one registrable domain "
            + "become *.domain, which also allows names not seen (default: never; never over a public suffix)")
    private Integer collapseAbove;

    @Option(names = "--by", paramLabel = "GROUPING", description = "namespace: one role per client namespace, "
            + "serviceAccount: one per namespace and service account, each selecting its pods by workloads (needs "
            + "identity.kubernetes); lines of clients that were no known pod are learned by their role (default: "
            + "by role only)")
    private String by;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        EgressConfig cfg;
        try {
            cfg = config.load();
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return Main.CONFIG_ERROR;
        }
        Instant from = null;
        if (since != null) {
            try {
                Duration d = Durations.parse(since);
                from = Instant.now().minus(d);
            } catch (IllegalArgumentException e) {
                err.println("mesh-egress: --since: " + e.getMessage());
                return Main.CONFIG_ERROR;
            }
        }
        if (minCount < 1 || (collapseAbove != null && collapseAbove < 1)) {
            err.println("mesh-egress: --min-count and --collapse must be at least 1");
            return Main.CONFIG_ERROR;
        }
        TrafficProfile.Grouping grouping;
        if (by == null) {
            grouping = TrafficProfile.Grouping.ROLE;
        } else if (by.equals("namespace")) {
            grouping = TrafficProfile.Grouping.NAMESPACE;
        } else if (by.equals("serviceAccount")) {
            grouping = TrafficProfile.Grouping.SERVICE_ACCOUNT;
        } else {
            err.println("mesh-egress: --by: " + io.meshegress.text.Quote.shortly(by)
                    + " is not namespace or serviceAccount");
            return Main.CONFIG_ERROR;
        }
        if (grouping != TrafficProfile.Grouping.ROLE && cfg.identity().kubernetes() == null) {
            err.println("mesh-egress: --by " + by + ": " + config.name() + " has no identity.kubernetes, and the roles "
                    + "it proposes select pods by workloads (add identity: {kubernetes: {}} in the cluster, or "
                    + "kubernetes: {kubeconfig: FILE} outside it)");
            return Main.CONFIG_ERROR;
        }
        TrafficProfile profile = new TrafficProfile(from, grouping);
        for (String log : logs) {
            String name = log.equals("-") ? "stdin" : log;
            InputStream in;
            try {
                in = open(log);
            } catch (IOException e) {
                err.println("mesh-egress: " + log + ": " + e.getMessage());
                return Main.CONFIG_ERROR;
            }
            long n = 0;
            try (in) {
                BoundedLines lines = new BoundedLines(in);
                for (BoundedLines.Next next = lines.next(); !(next instanceof BoundedLines.End); next = lines.next()) {
                    String where = name + ":" + ++n;
                    if (next instanceof BoundedLines.Line line) {
                        profile.add(line.text(), where);
                    } else {
                        profile.tooLong(where);
                    }
                }
            } catch (IOException e) {
                // A truncated gzip (a rotation in progress, say): what was read counts, and the summary says so.
                profile.readError(name, "after line " + n + ": " + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(ProposalYaml.render(cfg, config.name(), profile, collapseAbove == null ? OptionalInt.empty()
                : OptionalInt.of(collapseAbove), minCount));
        out.flush();
        err.println("mesh-egress learn: " + profile.summary());
        return Main.OK;
    }

    /** A log's bytes: gunzipped when it starts with gzip's magic bytes, whatever its name. */
    private static InputStream open(String log) throws IOException {
        InputStream raw = new BufferedInputStream(log.equals("-") ? System.in : Files.newInputStream(Path.of(log)));
        raw.mark(2);
        int b1 = raw.read();
        int b2 = raw.read();
        raw.reset();
        return b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(raw, 65536) : raw;
    }
}
