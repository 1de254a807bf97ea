package io.meshegress.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code mesh-egress run | check | istio | learn | help | --version | --help}. Exit status: 0 success, 1 runtime failure,
 * 2 usage or configuration error.
 */
@Command(name = "mesh-egress",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Egress proxy for Kubernetes and Istio service meshes: CONNECT, Host-routed HTTP and TLS "
                + "passthrough by SNI, from one config file.",
        // What --help, the man page (generated from this model at build time) and nothing else say at the end.
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:success", "1:the proxy cannot serve (a listener's address in use, say)",
            "2:a configuration or usage error (a bad file is one line: file:line:col: key: message)"},
        footerHeading = "%nFiles:%n",
        footer = {"/etc/mesh-egress/egress.yaml: the service's configuration (Debian package).",
            "/var/cache/mesh-egress/mesh-egress.jsa: the class-data archive the service records and maps.",
            "/var/log/mesh-egress/: the service's log files, rotated by /etc/logrotate.d/mesh-egress.",
            "/usr/share/doc/mesh-egress/docs/configuration.md.gz: every configuration key, its default and meaning;",
            "operations.md.gz beside it: running, reloading, logs and metrics."})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int RUNTIME_FAILURE = 1;
    public static final int CONFIG_ERROR = 2;

    private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("run", RunCommand::new);
        COMMANDS.put("check", CheckCommand::new);
        COMMANDS.put("istio", IstioCommand::new);
        COMMANDS.put("learn", LearnCommand::new);
        COMMANDS.put("help", CommandLine.HelpCommand::new);
    }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int status = RUNTIME_FAILURE;
        try {
            status = execute(args);
        } catch (Throwable t) {
            // Whatever escapes, the process must end with a status rather than linger on its event loops.
            System.err.println("mesh-egress: " + t);
            t.printStackTrace();
        } finally {
            System.exit(status);
        }
    }

    /** Runs a command line and returns its exit status; {@code run} returns only when the proxy stops. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** As {@link #execute(String...)}, writing to the given streams (tests capture them). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        // picocli builds a command's model by reflection, which is slow for classes outside the class-data
        // archive (picocli's own are too old to be archived): build only the command being run, and all of
        // them when the first word names none (help, usage errors).
        Supplier<Object> only = args.length > 0 && !args[0].equals("help") ? COMMANDS.get(args[0]) : null;
        CommandLine cli;
        if (only != null) {
            cli = new CommandLine(new Main());
            cli.addSubcommand(args[0], only.get());
        } else {
            cli = withEveryCommand();
        }
        cli.setOut(out).setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("mesh-egress: " + e.getMessage());
            return RUNTIME_FAILURE;
        });
        int status = cli.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    /** Every command in the model: what a bare {@code mesh-egress}, the man pages and the completion show. */
    static CommandLine withEveryCommand() {
        CommandLine cli = new CommandLine(new Main());
        COMMANDS.forEach((name, command) -> cli.addSubcommand(name, command.get()));
        return cli;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: "
                + String.join(", ", spec.subcommands().keySet()));
    }
}
