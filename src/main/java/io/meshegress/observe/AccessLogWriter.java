package io.meshegress.observe;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes access-log lines from a bounded queue on its own thread, so an event loop never waits for a slow
 * stdout or disk, nor spends its time formatting: it only queues the entry. The writer wakes every
 * {@value #BATCH_MS} ms and writes what has gathered with one flush, so a busy proxy pays no thread wake-up per
 * line; the interval is short so that each batch is short too (on a proxy confined to one CPU, a long batch
 * would hold up the event loop and show in its tail latency). When the queue is full a line is dropped and counted ({@code meshegress_access_log_dropped_total})
 * rather than stalling traffic.
 */
public final class AccessLogWriter implements AutoCloseable {
    static final int QUEUE = 65_536;
    static final long BATCH_MS = 10;

    private final BlockingQueue<AccessEntry> queue = new ArrayBlockingQueue<>(QUEUE);
    private final boolean json;
    private final ProxyMetrics metrics;
    private final OutputStream out;
    private final JsonGenerator generator;
    private final InstantText time = new InstantText();
    private final Thread thread;
    private volatile boolean closed;

    private AccessLogWriter(OutputStream out, boolean json, ProxyMetrics metrics) throws IOException {
        this.out = out;
        this.json = json;
        this.metrics = metrics;
        this.generator = json ? AccessLogFormats.generator(out) : null;
        this.thread = new Thread(this::drain, "access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * @param destination {@code stdout} or a file path (appended to)
     * @param format      {@code json} or {@code text}
     */
    public static AccessLogWriter open(String destination, String format, ProxyMetrics metrics) throws IOException {
        OutputStream os = destination.equals("stdout") ? System.out : AccessLogFile.openForAppend(Path.of(destination));
        return new AccessLogWriter(new BufferedOutputStream(os, 64 * 1024), !format.equals("text"), metrics);
    }

    /** Queues an entry for writing; never blocks (a full queue drops it, counted). */
    public void write(AccessEntry entry) {
        if (!queue.offer(entry)) {
            metrics.accessLogDropped();
        }
    }

    private void drain() {
        List<AccessEntry> batch = new ArrayList<>(1024);
        while (true) {
            boolean last = closed;
            queue.drainTo(batch);
            if (!batch.isEmpty()) {
                write(batch);
                batch.clear();
            } else if (last) {
                return;
            } else {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(BATCH_MS));
            }
        }
    }

    private void write(List<AccessEntry> batch) {
        try {
            for (AccessEntry e : batch) {
                if (json) {
                    AccessLogFormats.json(e, generator, time);
                    generator.writeRaw('\n');
                } else {
                    out.write(AccessLogFormats.text(e).getBytes(StandardCharsets.UTF_8));
                    out.write('\n');
                }
            }
            if (json) {
                generator.flush(); // its own buffer, then the stream's
            } else {
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            metrics.accessLogDropped();
        }
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
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
