package io.meshegress.observe;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Access-log lines, formatted where a connection ends and written by a thread of their own. The event loop that
 * finishes an entry formats it at once (about two microseconds, in line with the rest of its work) and appends
 * the bytes to a shared batch; every {@value #FLUSH_MS} ms the writer takes the whole batch and writes it with
 * one system call, so an event loop never waits for a slow stdout or disk.
 *
 * <p>Why not format on the writer thread: on a proxy confined to one CPU that thread and the event loop share
 * the CPU, and a writer formatting 10 ms of a busy proxy's lines ran for over a millisecond at a time,
 * stalling every request in flight behind it (the W1 p99 in the README's benchmarks). Taking the bytes is short.
 * When more than {@value #MAX_PENDING_LINES} lines (or {@value #MAX_PENDING_BYTES} bytes) wait, a line is
 * dropped and counted ({@code meshegress_access_log_dropped_total}) rather than stalling traffic.
 */
public final class AccessLogWriter implements AutoCloseable {
    static final int MAX_PENDING_LINES = 65_536;
    static final int MAX_PENDING_BYTES = 32 * 1024 * 1024;
    static final long FLUSH_MS = 10;

    private final OutputStream out;
    private final boolean json;
    private final ProxyMetrics metrics;
    /** One formatter per thread that finishes entries (each event loop), so formatting takes no lock. */
    private final ThreadLocal<LineFormatter> formatters;
    private final Object lock = new Object();
    /** Filled by the event loops, swapped whole by the writer; both guarded by {@link #lock}. */
    private Batch filling = new Batch();
    private Batch spare = new Batch();
    private final Thread thread;
    private volatile boolean closed;

    private AccessLogWriter(OutputStream out, boolean json, ProxyMetrics metrics) {
        this.out = out;
        this.json = json;
        this.metrics = metrics;
        this.formatters = ThreadLocal.withInitial(() -> new LineFormatter(json));
        this.thread = new Thread(this::drain, "access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * @param destination {@code stdout} or a file path (appended to)
     * @param format      {@code json} or {@code text}
     */
    public static AccessLogWriter open(String destination, String format, ProxyMetrics metrics) throws IOException {
        OutputStream o = destination.equals("stdout") ? System.out : new FileOutputStream(destination, true);
        return new AccessLogWriter(o, !format.equals("text"), metrics);
    }

    /** Formats the entry on the calling thread and adds it to the next batch; never blocks on output. */
    public void write(AccessEntry entry) {
        LineFormatter f = formatters.get();
        if (!f.format(entry)) {
            formatters.remove(); // its generator may be mid-object: the next line starts with a new one
            metrics.accessLogDropped();
            return;
        }
        boolean added;
        synchronized (lock) {
            added = filling.add(f.bytes(), f.length());
        }
        if (!added) {
            metrics.accessLogDropped();
        }
    }

    private void drain() {
        while (true) {
            boolean last = closed;
            Batch full;
            synchronized (lock) {
                full = filling;
                filling = spare;
                spare = full;
            }
            if (full.length > 0) {
                try {
                    out.write(full.bytes, 0, full.length);
                    out.flush();
                } catch (IOException | RuntimeException e) {
                    for (int i = 0; i < full.lines; i++) {
                        metrics.accessLogDropped();
                    }
                }
                full.clear();
            }
            if (last) {
                return;
            }
            // A fixed pause whatever was written: a batch is 10 ms of lines, never a stream of small writes.
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(FLUSH_MS));
        }
    }

    /** Writes what is batched, then stops. */
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

    /** Lines waiting for the writer: a growable byte array, bounded in lines and bytes. */
    private static final class Batch {
        byte[] bytes = new byte[64 * 1024];
        int length;
        int lines;

        boolean add(byte[] line, int n) {
            if (lines >= MAX_PENDING_LINES || length + n > MAX_PENDING_BYTES) {
                return false;
            }
            if (length + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.min(MAX_PENDING_BYTES, Math.max(bytes.length * 2, length + n)));
            }
            System.arraycopy(line, 0, bytes, length, n);
            length += n;
            lines++;
            return true;
        }

        void clear() {
            length = 0;
            lines = 0;
            if (bytes.length > 1024 * 1024) {
                bytes = new byte[64 * 1024]; // a backlog's buffer is not kept for ever
            }
        }
    }

    /** One thread's reusable formatter: the line's bytes, newline included, in a buffer it keeps. */
    private static final class LineFormatter {
        private final Buffer buffer = new Buffer();
        private final JsonGenerator generator;

        LineFormatter(boolean json) {
            try {
                this.generator = json ? AccessLogFormats.generator(buffer) : null;
            } catch (IOException e) {
                throw new IllegalStateException("cannot create the access-log formatter", e);
            }
        }

        /** False if the entry could not be formatted (a line is never half written). */
        boolean format(AccessEntry e) {
            buffer.reset();
            try {
                if (generator != null) {
                    AccessLogFormats.json(e, generator);
                    generator.flush();
                } else {
                    byte[] line = AccessLogFormats.text(e).getBytes(StandardCharsets.UTF_8);
                    buffer.write(line, 0, line.length);
                }
                buffer.write('\n');
                return true;
            } catch (IOException | RuntimeException ex) {
                return false;
            }
        }

        byte[] bytes() {
            return buffer.array();
        }

        int length() {
            return buffer.size();
        }
    }

    /** A growable byte buffer read in place (no copy per line, and none of ByteArrayOutputStream's locking). */
    private static final class Buffer extends OutputStream {
        private byte[] buf = new byte[512];
        private int count;

        @Override
        public void write(int b) {
            ensure(1);
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        private void ensure(int more) {
            if (count + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
            }
        }

        void reset() {
            count = 0;
        }

        int size() {
            return count;
        }

        byte[] array() {
            return buf;
        }
    }
}
