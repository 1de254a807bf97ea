package io.meshegress.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** The built jar run as its own process, as a user runs it, with its stdout and stderr kept line by line. */
public final class JarProcess implements AutoCloseable {
    /** Every process the tests start tracks every buffer; {@link #close()} fails on any leak it reported. */
    static final String PARANOID_LEAKS = "-Dio.netty.leakDetection.level=paranoid";

    private final Process process;
    private final List<String> out = new CopyOnWriteArrayList<>();
    private final List<String> err = new CopyOnWriteArrayList<>();

    private JarProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), out);
        pump(process.getErrorStream(), err);
    }

    /** The jar Maven built; failsafe passes its path. */
    public static Path jar() {
        Path jar = Path.of(System.getProperty("meshegress.jar", "target/mesh-egress.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run `./mvnw verify` (it packages before integration tests)");
        }
        return jar;
    }

    /**
     * The transport the test run asks for ({@code -Dmeshegress.transport}, set by the suite's io_uring
     * executions), passed on to the jar so that its tests run on that transport too.
     */
    static List<String> transportOption() {
        String transport = System.getProperty("meshegress.transport", "");
        return transport.isEmpty() ? List.of() : List.of("-Dmeshegress.transport=" + transport);
    }

    public static JarProcess start(String... args) throws IOException {
        return start(List.of(), args);
    }

    /** Starts the jar with more environment variables. */
    public static JarProcess startWithEnvironment(java.util.Map<String, String> env, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(List.of(), args));
        pb.environment().putAll(env);
        return new JarProcess(pb.start());
    }

    /** Starts the jar with JVM options (a heap limit, say) before {@code -jar}. */
    public static JarProcess start(List<String> jvmOptions, String... args) throws IOException {
        return new JarProcess(new ProcessBuilder(javaCommand(jvmOptions, args)).start());
    }

    private static List<String> javaCommand(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(PARANOID_LEAKS);
        command.addAll(transportOption());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(List.of(args));
        return command;
    }

    /** Starts the jar as {@link #start(String...)} does, as the argument of {@code wrapper} (a command that execs it). */
    public static JarProcess startUnder(List<String> wrapper, String... args) throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(javaCommand(List.of(), args));
        return new JarProcess(new ProcessBuilder(command).start());
    }

    /** Starts the jar as {@link #start(List, String...)} does, under {@code ulimit -n nofile}. */
    public static JarProcess startWithFileLimit(int nofile, List<String> jvmOptions, String... args)
            throws IOException {
        String quoted = String.join(" ", javaCommand(jvmOptions, args).stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
        return new JarProcess(new ProcessBuilder("sh", "-c", "ulimit -n " + nofile + " && exec " + quoted).start());
    }

    /**
     * Starts the jar through {@code bin/mesh-egress}, the launcher that adds a class-data-sharing archive, with
     * the jar and the JVM given to it by environment.
     */
    public static JarProcess startLauncher(java.util.Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of("bin", "mesh-egress").toAbsolutePath().toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("MESH_EGRESS_JAR", jar().toAbsolutePath().toString());
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("JAVA_OPTS", String.join(" ", PARANOID_LEAKS, String.join(" ", transportOption())).trim());
        pb.environment().putAll(env);
        return new JarProcess(pb.start());
    }

    /** Waits for the end of a process started here (at most 60 s) and returns its exit status. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            close();
            throw new IllegalStateException("mesh-egress did not finish");
        }
        drained();
        return process.exitValue();
    }

    /** Runs a command to its end (at most 60 s) and returns it. */
    public static JarProcess runToEnd(String... args) throws Exception {
        JarProcess p = start(args);
        if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
            p.close();
            throw new IllegalStateException("mesh-egress " + String.join(" ", args) + " did not finish");
        }
        p.drained();
        return p;
    }

    private void drained() {
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pumpsDone == 2);
    }

    private volatile int pumpsDone;

    private void pump(InputStream stream, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process went away
            } finally {
                synchronized (this) {
                    pumpsDone++;
                }
            }
        }, "jar-output");
        t.setDaemon(true);
        t.start();
    }

    /** Waits until a line on stderr (diagnostics) matches, or the process ends. */
    public String awaitErr(Predicate<String> match) {
        return awaitLine(err, match);
    }

    /** Waits until a line on stdout (the access log) matches. */
    public String awaitOut(Predicate<String> match) {
        return awaitLine(out, match);
    }

    private String awaitLine(List<String> lines, Predicate<String> match) {
        return Awaitility.await("a line in " + (lines == err ? "stderr" : "stdout") + "; stderr so far: " + err)
                .atMost(Duration.ofSeconds(20))
                .failFast(() -> {
                    if (!process.isAlive() && lines.stream().noneMatch(match)) {
                        drained(); // what it printed before exiting says why
                        throw new AssertionError("mesh-egress exited with " + process.exitValue() + "; stderr: " + err);
                    }
                })
                .until(() -> lines.stream().filter(match).findFirst().orElse(null), l -> l != null);
    }

    public List<String> out() {
        return List.copyOf(out);
    }

    public List<String> err() {
        return List.copyOf(err);
    }

    public int exitCode() {
        return process.exitValue();
    }

    public Process process() {
        return process;
    }

    /**
     * Sends SIGTERM while still reading the process's output (Process.destroy() would also close the pipes,
     * hiding what it logs while it drains).
     */
    public void sigterm() {
        process.toHandle().destroy();
    }

    /** SIGTERM, then waits for the exit status. */
    public int stop() throws InterruptedException {
        sigterm();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
        drained();
        List<String> leaks = err().stream().filter(l -> l.contains("LEAK:")).toList();
        if (!leaks.isEmpty()) {
            throw new AssertionError("mesh-egress reported Netty buffer leaks:\n" + String.join("\n", err()));
        }
    }
}
