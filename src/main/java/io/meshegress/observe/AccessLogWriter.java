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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes access-log lines from a bounded queue on its own thread, so an event loop never waits for a slow
 * stdout or disk, nor spends its time formatting: it only queues the entry. The writer wakes every
 * {@value #BATCH_MS} ms and writes what has gathered with one flush, so a busy proxy pays no thread wake-up per
 * line; the interval is short so that each batch is short too (on a proxy confined to one CPU, a long batch
 * would hold up the event loop and show in its tail latency). When the queue is full a line is dropped and counted ({@code meshegress_access_log_dropped_total})
 * rather than stalling traffic. {@link #reopen()} (SIGUSR1) has the writer thread close the file and open its path
 * anew between two batches, so after a rotation's rename every later line goes to the new file and none is lost.
 */
public final class AccessLogWriter implements AutoCloseable {
    static final int QUEUE = 65_536;
    static final long BATCH_MS = 10;
    private static final Logger LOG = LoggerFactory.getLogger(AccessLogWriter.class);

    private final BlockingQueue<AccessEntry> queue = new ArrayBlockingQueue<>(QUEUE);
    private final boolean json;
    private final ProxyMetrics metrics;
    private final Destination destination;
    private OutputStream out; // the writer thread's alone after construction
    private JsonGenerator generator;
    private final InstantText time = new InstantText();
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean reopenRequested;

    /** Where lines go: stdout (never reopened), or a file appended to and reopened by its path. */
    private interface Destination {
        OutputStream open() throws IOException;
    }

    private AccessLogWriter(Destination destination, boolean json, ProxyMetrics metrics) throws IOException {
        this.destination = destination;
        this.out = new BufferedOutputStream(destination.open(), 64 * 1024);
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
        Destination d = destination.equals("stdout") ? () -> System.out
                : () -> AccessLogFile.openForAppend(Path.of(destination));
        return new AccessLogWriter(d, !format.equals("text"), metrics);
    }

    /** Asks the writer to reopen its file by path (after a rotation); returns at once. */
    public void reopen() {
        reopenRequested = true;
        LockSupport.unpark(thread);
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
            if (reopenRequested) {
                reopenRequested = false;
                reopenNow();
            }
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

    private void reopenNow() {
        OutputStream next;
        JsonGenerator nextGenerator;
        try {
            next = destination.open();
            if (next == System.out) {
                return; // stdout is the service manager's to rotate
            }
            next = new BufferedOutputStream(next, 64 * 1024);
            nextGenerator = json ? AccessLogFormats.generator(next) : null;
        } catch (IOException | RuntimeException e) {
            LOG.warn("access log: cannot reopen ({}); lines keep going to the file already open", e.toString());
            return;
        }
        try {
            out.close(); // flushed after every batch, so nothing is left in it
        } catch (IOException e) {
            LOG.warn("access log: closing the previous file: {}", e.toString());
        }
        out = next;
        generator = nextGenerator;
        LOG.info("access log reopened");
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
