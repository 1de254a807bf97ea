package io.meshegress.control;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.ProxyMetrics;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file when it changes, and on request (SIGHUP). It watches the file's directory rather than
 * the file: a Kubernetes ConfigMap volume swaps a {@code ..data} symlink and never writes the file itself, so
 * an event for the file's name or for a name starting with {@code ..} (and, in case events are lost, a check
 * every few seconds) leads to comparing the file's content with what was last applied. Events for other names
 * are ignored: an access log written beside the config would otherwise cost a read per flush. An invalid file is logged as the same one-line error `check`
 * prints, counted, and changes nothing.
 */
public final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);
    private static final long POLL_MS = 2000;
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
    private final Thread watcher;
    private volatile boolean closed;
    private byte[] lastSeen;
    private WatchService watchService;

    public ConfigReloader(Path file, byte[] loadedContent, Adjuster adjuster, Applier applier, ProxyMetrics metrics) {
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
            content = Files.readAllBytes(file);
            byte[] seen = digest(content);
            if (!force && Arrays.equals(seen, lastSeen)) {
                return;
            }
            // An editor or `echo >` truncates, then writes: read again a moment later and act only on a file
            // that has stopped changing (a ConfigMap's symlink swap is atomic and passes at once).
            TimeUnit.MILLISECONDS.sleep(SETTLE_MS);
            byte[] again = Files.readAllBytes(file);
            if (!Arrays.equals(digest(again), seen)) {
                return;
            }
        } catch (IOException e) {
            if (force) {
                fail(file + ": cannot read: " + e.getMessage());
            }
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        lastSeen = digest(content);
        if (new String(content, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            // Legal at start (all defaults), but on a running proxy almost surely a file caught half written.
            fail(file + ": the file is empty; not replacing a running configuration with the defaults");
            return;
        }
        EgressConfig next;
        try {
            next = adjuster.adjust(ConfigLoader.parse(file.toString(), new String(content,
                    java.nio.charset.StandardCharsets.UTF_8)));
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
        LOG.info("reloaded {} ({}); new connections use it", file, why);
    }

    private void fail(String line) {
        metrics.configReload("failure");
        LOG.error("reload rejected, the previous configuration keeps serving: {}", line);
    }

    private void watch() {
        Path dir = file.toAbsolutePath().getParent();
        try {
            watchService = FileSystems.getDefault().newWatchService();
            dir.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            LOG.warn("cannot watch {} ({}); checking it every {} ms instead", dir, e.getMessage(), POLL_MS);
        }
        while (!closed) {
            try {
                WatchKey key = watchService == null ? null : watchService.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (watchService == null) {
                    TimeUnit.MILLISECONDS.sleep(POLL_MS);
                }
                if (key != null) {
                    boolean relevant = key.pollEvents().stream().anyMatch(e -> concernsConfig(e.context(), file));
                    key.reset();
                    if (relevant) {
                        reload("file changed", false);
                    }
                } else {
                    reload("file changed (periodic check)", false);
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                LOG.error("config watcher: {}", e.toString());
            }
        }
    }

    /**
     * Whether a directory event may have changed the config file: the file's own name, a ConfigMap volume's
     * {@code ..data} swap (or any {@code ..} name), or an overflow, whose context is null (events were lost).
     */
    static boolean concernsConfig(Object eventContext, Path file) {
        if (!(eventContext instanceof Path)) {
            return true;
        }
        String name = eventContext.toString();
        return name.startsWith("..") || name.equals(String.valueOf(file.getFileName()));
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
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
