package io.meshegress.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private mount namespace in which this machine's /etc, /var and /usr (and /lib, /bin, /sbin where they are
 * directories of their own) are overlays whose writable layer lives in a directory of the test, and /run is an
 * empty tmpfs (so no maintainer script can reach the machine's init system), and so is /tmp. dpkg, adduser and the maintainer
 * scripts run in it write only into that layer: the machine's package database, accounts and /etc stay as they
 * were, and closing the root throws everything away. Needs root (mount); the JVM's own file API sees the machine,
 * {@link #run} and {@link #start} see the throwaway root.
 */
public final class ThrowawayRoot implements AutoCloseable {
    private static final String SETUP = """
            set -eu
            layers=$1
            for d in etc var usr lib bin sbin opt; do
              [ -d "/$d" ] && [ ! -L "/$d" ] || continue
              mkdir -p "$layers/upper/$d" "$layers/work/$d"
              mount -t overlay overlay -o "lowerdir=/$d,upperdir=$layers/upper/$d,workdir=$layers/work/$d" "/$d"
            done
            mount -t tmpfs -o mode=0755 tmpfs /run
            # What the test hands in from under /tmp (a checkout there, its target/ with the .deb) stays visible:
            # bound aside before the empty /tmp covers it, then moved back to the same path.
            shift
            i=0
            for keep in "$@"; do
              case "$keep" in /tmp/*) mkdir -p "/run/keep/$i"; mount --bind "$keep" "/run/keep/$i"; i=$((i+1)) ;; esac
            done
            mount -t tmpfs -o mode=1777 tmpfs /tmp
            i=0
            for keep in "$@"; do
              case "$keep" in /tmp/*) mkdir -p "$keep"; mount --move "/run/keep/$i" "$keep"; i=$((i+1)) ;; esac
            done
            echo ready
            # Lives as long as the test holds its stdin open; the namespace ends with its last process.
            exec cat >/dev/null
            """;

    private final Path layers;
    private final Process holder;

    private ThrowawayRoot(Path layers, Process holder) {
        this.layers = layers;
        this.holder = holder;
    }

    /**
     * Makes the root; its layers live under {@code dir}, which must lie outside /etc, /var and /usr. The
     * directories in {@code visible} (the .deb's, say) are seen inside at their own paths even where they lie
     * under /tmp, which the root otherwise replaces with an empty one (a checkout in /tmp would lose its target/).
     */
    public static ThrowawayRoot open(Path dir, Path... visible) throws IOException {
        Path layers = Files.createDirectories(dir.toAbsolutePath());
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "sh",
                "-c", SETUP, "sh", layers.toString()));
        for (Path v : visible) {
            command.add(v.toAbsolutePath().normalize().toString());
        }
        Process holder = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        if (!"ready".equals(line)) {
            StringBuilder why = new StringBuilder(String.valueOf(line));
            for (String l; (l = r.readLine()) != null; ) {
                why.append('\n').append(l);
            }
            holder.destroyForcibly();
            throw new IllegalStateException("cannot make a throwaway root (it needs root and overlayfs): " + why);
        }
        return new ThrowawayRoot(layers, holder);
    }

    /** A command line that runs {@code command} inside the root (nsenter execs it: its pid is the command's). */
    public List<String> inside(List<String> command) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--mount=/proc/" + holder.pid() + "/ns/mnt", "--"));
        cmd.addAll(command);
        return cmd;
    }

    /** Runs a command inside the root to its end. */
    public Command run(String... command) throws Exception {
        return Command.run(inside(List.of(command)));
    }

    /** Starts a command inside the root, its stderr merged into its stdout. */
    public Process start(List<String> command) throws IOException {
        return new ProcessBuilder(inside(command)).redirectErrorStream(true).start();
    }

    /** What was written in the root (the overlays' upper layer), seen from the machine. */
    public Path written() {
        return layers.resolve("upper");
    }

    @Override
    public void close() throws Exception {
        holder.getOutputStream().close();
        if (!holder.waitFor(10, TimeUnit.SECONDS)) {
            holder.destroyForcibly().waitFor();
        }
        Command rm = Command.run(List.of("rm", "-rf", "--one-file-system", layers.toString()));
        if (rm.exitCode() != 0) {
            throw new IllegalStateException("cannot remove " + layers + ": " + rm.err());
        }
    }
}
