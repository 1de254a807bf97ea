package io.meshegress.control;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigFile;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.observe.StatusBoard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file when it changes, and on request (SIGHUP). Once a second it looks at the file's
 * identity, size and modification time (following symlinks, so a Kubernetes ConfigMap volume's {@code ..data}
 * swap shows as a new file); on a difference, and every {@value #FULL_CHECK_EVERY} looks regardless, it compares
 * the file's content with what was last applied. Polling one file costs a stat per second, where a directory
 * watch would wake two threads for every write to any file beside the config (an access log, say). An invalid
 * file is logged as the same one-line error `check` prints, counted, and changes nothing.
 */
public final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);
    private static final long POLL_MS = 1000;
    static final int FULL_CHECK_EVERY = 10;
    private static final long SETTLE_MS = 150;

    /** Applies a config that parsed; throws if it cannot (a listener that cannot bind, say). */
    @FunctionalInterface
    public interface Applier {
        void apply(EgressConfig config) throws Exception;
    }

    /** Adjusts a freshly loaded config the way the command line did the first one (--admin-listen). */
    @FunctionalInterface
    public interface Adjuster {
        EgressConfig adjust(EgressConfig config) throws ConfigException;
    }

    private final Path file;
    private final Adjuster adjuster;
    private final Applier applier;
    private final ProxyMetrics metrics;
    private final StatusBoard board;
    private final Thread watcher;
    private volatile boolean closed;
    private byte[] lastSeen;
    /** The last read failure logged, so the periodic content check does not repeat it every few seconds. */
    private String lastReadFailure;

    public ConfigReloader(Path file, byte[] loadedContent, Adjuster adjuster, Applier applier, ProxyMetrics metrics) {
        this(file, loadedContent, adjuster, applier, metrics, new StatusBoard());
    }

    /** @param board told of every applied and every rejected reload (the admin status page shows both) */
    public ConfigReloader(Path file, byte[] loadedContent, Adjuster adjuster, Applier applier, ProxyMetrics metrics,
                          StatusBoard board) {
        this.board = board;
        this.file = file;
        this.adjuster = adjuster;
        this.applier = applier;
        this.metrics = metrics;
        this.lastSeen = digest(loadedContent);
        this.watcher = new Thread(this::watch, "config-watcher");
        watcher.setDaemon(true);
    }

    public ConfigReloader start() {
        watcher.start();
        return this;
    }

    /** Reloads now, changed or not (SIGHUP). */
    public void reloadNow(String why) {
        reload(why, true);
    }

    private synchronized void reload(String why, boolean force) {
        byte[] content;
        try {
            // The same checks as at start (a regular file, size-capped): a FIFO or a runaway file must not tie
            // up this thread or the heap.
            content = ConfigFile.readBytes(file);
            byte[] seen = digest(content);
            if (!force && Arrays.equals(seen, lastSeen)) {
                return;
            }
            // An editor or `echo >` truncates, then writes: read again a moment later and act only on a file
            // that has stopped changing (a ConfigMap's symlink swap is atomic and passes at once).
            TimeUnit.MILLISECONDS.sleep(SETTLE_MS);
            byte[] again = ConfigFile.readBytes(file);
            if (!Arrays.equals(digest(again), seen)) {
                return;
            }
        } catch (ConfigException e) {
            if (force || !e.getMessage().equals(lastReadFailure)) {
                lastReadFailure = e.getMessage();
                fail(e.getMessage());
            }
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        lastReadFailure = null;
        lastSeen = digest(content);
        EgressConfig next;
        try {
            // An empty file is refused here as at start (ConfigFile.decode), never read as "all defaults".
            next = adjuster.adjust(ConfigLoader.parse(file.toString(), ConfigFile.decode(file.toString(), content)));
        } catch (ConfigException e) {
            fail(e.getMessage());
            return;
        }
        try {
            applier.apply(next);
        } catch (Exception e) {
            fail(file + ": not applied: " + e.getMessage());
            return;
        }
        metrics.configReload("success");
        board.loaded(file.toString());
        LOG.info("reloaded {} ({}); new connections use it", file, why);
    }

    private void fail(String line) {
        metrics.configReload("failure");
        board.rejected(line);
        LOG.error("reload rejected, the previous configuration keeps serving: {}", line);
    }

    private void watch() {
        FileVersion seen = FileVersion.of(file);
        int sinceFullCheck = 0;
        while (!closed) {
            try {
                TimeUnit.MILLISECONDS.sleep(POLL_MS);
                FileVersion now = FileVersion.of(file);
                if (!now.equals(seen) || ++sinceFullCheck >= FULL_CHECK_EVERY) {
                    seen = now;
                    sinceFullCheck = 0;
                    reload("file changed", false);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.error("config watcher: {}", e.toString());
            }
        }
    }

    /** What a stat tells of the file: a change in any of it is worth reading the file for. */
    record FileVersion(Object key, long modifiedNanos, long size) {
        static FileVersion of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new FileVersion(a.fileKey(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size());
            } catch (IOException e) {
                return new FileVersion(null, -1, -1); // missing for now (mid-swap, say)
            }
        }
    }

    private static byte[] digest(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
    }
}
