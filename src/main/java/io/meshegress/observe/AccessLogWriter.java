package io.meshegress.observe;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Writes access-log lines from a bounded queue on its own thread, so an event loop never waits for a slow
 * stdout or disk. When the queue is full a line is dropped and counted ({@code meshegress_access_log_dropped_total})
 * rather than stalling traffic.
 */
public final class AccessLogWriter implements AccessLog, AutoCloseable {
    private static final int QUEUE = 65_536;

    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
    private final Function<AccessEntry, String> format;
    private final ProxyMetrics metrics;
    private final Writer out;
    private final Thread thread;
    private volatile boolean closed;

    private AccessLogWriter(Writer out, Function<AccessEntry, String> format, ProxyMetrics metrics) {
        this.out = out;
        this.format = format;
        this.metrics = metrics;
        this.thread = new Thread(this::drain, "access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * @param destination {@code stdout} or a file path (appended to)
     * @param format      {@code json} or {@code text}
     */
    public static AccessLogWriter open(String destination, String format, ProxyMetrics metrics) throws IOException {
        Writer w = destination.equals("stdout")
                ? new OutputStreamWriter(System.out, StandardCharsets.UTF_8)
                : Files.newBufferedWriter(Path.of(destination), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
        return new AccessLogWriter(new BufferedWriter(w, 64 * 1024),
                format.equals("text") ? AccessLogFormats::text : AccessLogFormats::json, metrics);
    }

    @Override
    public void log(AccessEntry entry) {
        metrics.finished(entry);
        if (!queue.offer(format.apply(entry))) {
            metrics.accessLogDropped();
        }
    }

    @Override
    public void tunnelOpened(String listener) {
        metrics.tunnelOpened(listener);
    }

    @Override
    public void tunnelClosed(String listener) {
        metrics.tunnelClosed(listener);
    }

    private void drain() {
        List<String> batch = new ArrayList<>(256);
        while (!closed || !queue.isEmpty()) {
            try {
                String first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, 255);
                for (String line : batch) {
                    out.write(line);
                    out.write('\n');
                }
                out.flush();
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException e) {
                batch.clear();
                metrics.accessLogDropped();
            }
        }
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
            out.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // nothing more to do at exit
        }
    }
}
