package io.meshegress.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code mesh-egress run | check | --version | --help}. Exit status: 0 success, 1 runtime failure,
 * 2 usage or configuration error.
 */
@Command(name = "mesh-egress",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Egress proxy for Kubernetes and Istio service meshes: CONNECT, Host-routed HTTP and TLS "
                + "passthrough by SNI, from one config file.")
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int RUNTIME_FAILURE = 1;
    public static final int CONFIG_ERROR = 2;

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
        CommandLine cli = new CommandLine(new Main());
        // picocli builds a command's model by reflection, which is slow for classes outside the class-data
        // archive (picocli's own are too old to be archived): build only the command being run, and all of
        // them when the first word names none (help, usage errors).
        Map<String, Supplier<Object>> commands = new LinkedHashMap<>();
        commands.put("run", RunCommand::new);
        commands.put("check", CheckCommand::new);
        commands.put("istio", IstioCommand::new);
        commands.put("learn", LearnCommand::new);
        commands.put("help", CommandLine.HelpCommand::new);
        Supplier<Object> only = args.length > 0 && !args[0].equals("help") ? commands.get(args[0]) : null;
        if (only != null) {
            cli.addSubcommand(args[0], only.get());
        } else {
            commands.forEach((name, command) -> cli.addSubcommand(name, command.get()));
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

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: run, check, istio");
    }
}
