package io.meshegress.observe;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What the admin status page shows beyond the metrics: the last {@value #REFUSALS} refusals (an operator's first
 * question is "why was my call refused?") and which configuration file serves, since when, and the last reload
 * that was rejected with its error. Written by the event loops (a refusal is rare next to traffic, so one lock
 * costs nothing measurable) and by the reloader; read by the admin listener.
 */
public final class StatusBoard {
    public static final int REFUSALS = 200;

    /** The file in force and the last rejected reload (null fields: none yet). */
    public record ConfigState(String file, Instant loadedAt, Instant rejectedAt, String rejection) {
    }

    private final Instant started = Instant.now();
    private final ArrayDeque<AccessEntry> refusals = new ArrayDeque<>(REFUSALS);
    private volatile ConfigState config = new ConfigState(null, null, null, null);

    public Instant started() {
        return started;
    }

    /** Keeps the entry if it is a refusal; the oldest kept one goes when there are more than {@value #REFUSALS}. */
    public void record(AccessEntry e) {
        if (!"refused".equals(e.decision())) {
            return;
        }
        synchronized (refusals) {
            if (refusals.size() == REFUSALS) {
                refusals.removeFirst();
            }
            refusals.addLast(e);
        }
    }

    /** The kept refusals, newest first. */
    public List<AccessEntry> refusals() {
        synchronized (refusals) {
            List<AccessEntry> out = new ArrayList<>(refusals.size());
            for (Iterator<AccessEntry> it = refusals.descendingIterator(); it.hasNext(); ) {
                out.add(it.next());
            }
            return out;
        }
    }

    /** A configuration was loaded (at start, or by a reload that was applied). */
    public synchronized void loaded(String file) {
        config = new ConfigState(file, Instant.now(), config.rejectedAt(), config.rejection());
    }

    /** A reload was rejected; the configuration in force keeps serving. */
    public synchronized void rejected(String error) {
        config = new ConfigState(config.file(), config.loadedAt(), Instant.now(), error);
    }

    public ConfigState config() {
        return config;
    }
}
