package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.Durations;
import io.meshegress.config.EgressConfig;
import io.meshegress.learn.ProposalYaml;
import io.meshegress.learn.TrafficProfile;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "learn", mixinStandardHelpOptions = true,
        description = "Read JSON access logs (plain or gzip'd; - for stdin) and print a policy section whose "
                + "allow-lists, per role, cover the traffic they show, in enforce mode. Review it before use.")
final class LearnCommand implements Callable<Integer> {
    @Mixin
    private ConfigOption config;

    @Parameters(paramLabel = "ACCESS_LOG", arity = "1..*", description = "access-log files (json format); - reads stdin")
    private List<String> logs = new ArrayList<>();

    @Option(names = "--min-count", paramLabel = "N", defaultValue = "1",
            description = "leave out hosts seen fewer than N times (default: ${DEFAULT-VALUE})")
    private long minCount;

    @Option(names = "--since", paramLabel = "DURATION", description = "only lines from the last DURATION (e.g. 7d, 24h)")
    private String since;

    @Option(names = "--collapse", paramLabel = "K", defaultValue = "5", description = "more than K names under one "
            + "registrable domain become *.domain (default: ${DEFAULT-VALUE}; never over a public suffix)")
    private int collapseAbove;

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
        if (minCount < 1 || collapseAbove < 1) {
            err.println("mesh-egress: --min-count and --collapse must be at least 1");
            return Main.CONFIG_ERROR;
        }
        TrafficProfile profile = new TrafficProfile(from);
        for (String log : logs) {
            try (BufferedReader in = open(log)) {
                String line;
                long n = 0;
                while ((line = in.readLine()) != null) {
                    profile.add(line, (log.equals("-") ? "stdin" : log) + ":" + ++n);
                }
            } catch (IOException e) {
                err.println("mesh-egress: " + log + ": " + e.getMessage());
                return Main.CONFIG_ERROR;
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(ProposalYaml.render(cfg, config.name(), profile, collapseAbove, minCount));
        out.flush();
        err.println("mesh-egress learn: " + profile.summary());
        return Main.OK;
    }

    /** A log as lines: gzip'd when it starts with gzip's magic bytes, whatever its name. */
    private static BufferedReader open(String log) throws IOException {
        InputStream raw = new BufferedInputStream(log.equals("-") ? System.in : Files.newInputStream(Path.of(log)));
        raw.mark(2);
        int b1 = raw.read();
        int b2 = raw.read();
        raw.reset();
        InputStream in = b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(raw, 65536) : raw;
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 65536);
    }
}
