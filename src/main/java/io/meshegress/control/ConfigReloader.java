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
 * file is logged as the same one-line error `check` prints, counted, and changes nothing. The htpasswd file of
 * identity.basic is watched the same way: a change to it alone reloads the whole config (which reads it again).
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
    /** identity.basic.file of the configuration applied last, or null: read and watched beside the config. */
    private volatile Path credentialsFile;
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
        this.credentialsFile = credentialsFileOf(file, loadedContent);
        this.lastSeen = digest(loadedContent, credentialsBytes(credentialsFile));
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
            Path credentials = credentialsFile;
            byte[] seen = digest(content, credentialsBytes(credentials));
            if (!force && Arrays.equals(seen, lastSeen)) {
                return;
            }
            // An editor or `echo >` truncates, then writes: read again a moment later and act only on a file
            // that has stopped changing (a ConfigMap's symlink swap is atomic and passes at once).
            TimeUnit.MILLISECONDS.sleep(SETTLE_MS);
            byte[] again = ConfigFile.readBytes(file);
            if (!Arrays.equals(digest(again, credentialsBytes(credentials)), seen)) {
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
        lastSeen = seenNow(content);
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
        credentialsFile = next.identity().basic() == null ? null : next.identity().basic().file();
        lastSeen = seenNow(content);
        metrics.configReload("success");
        board.loaded(file.toString());
        LOG.info("reloaded {} ({}); new connections use it", file, why);
    }

    private void fail(String line) {
        metrics.configReload("failure");
        board.rejected(line);
        LOG.error("reload rejected, the previous configuration keeps serving: {}", line);
    }

    private byte[] seenNow(byte[] content) {
        return digest(content, credentialsBytes(credentialsFile));
    }

    /** The htpasswd file a config names, as the loader resolves it (null: none, or the config does not load). */
    private static Path credentialsFileOf(Path file, byte[] content) {
        try {
            EgressConfig c = ConfigLoader.parse(file.toString(), ConfigFile.decode(file.toString(), content));
            return c.identity().basic() == null ? null : c.identity().basic().file();
        } catch (ConfigException e) {
            return null;
        }
    }

    /** The file's bytes, or none when it cannot be read (the reload that follows says why). */
    private static byte[] credentialsBytes(Path credentials) {
        if (credentials == null) {
            return new byte[0];
        }
        try {
            return ConfigFile.readBytes(credentials);
        } catch (ConfigException e) {
            return e.getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private void watch() {
        FileVersion seen = FileVersion.of(file, credentialsFile);
        int sinceFullCheck = 0;
        while (!closed) {
            try {
                TimeUnit.MILLISECONDS.sleep(POLL_MS);
                FileVersion now = FileVersion.of(file, credentialsFile);
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
    record FileVersion(Object key, long modifiedNanos, long size, FileVersion credentials) {
        static FileVersion of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new FileVersion(a.fileKey(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size(), null);
            } catch (IOException e) {
                return new FileVersion(null, -1, -1, null); // missing for now (mid-swap, say)
            }
        }

        /** The config's version and its htpasswd file's (null: none). */
        static FileVersion of(Path file, Path credentials) {
            FileVersion v = of(file);
            return credentials == null ? v : new FileVersion(v.key, v.modifiedNanos, v.size, of(credentials));
        }
    }

    private static byte[] digest(byte[] content, byte[] credentials) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(content);
            d.update(credentials);
            return d.digest();
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
