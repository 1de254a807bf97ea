package io.meshegress.cli;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as requests to stop. Handling them ourselves (rather than letting the JVM run its
 * shutdown hooks and exit with 143) is what lets {@code run} finish its work and exit 0, as Kubernetes and
 * systemd expect of a clean stop.
 */
final class TerminationSignals {
    private TerminationSignals() {
    }

    /** SIGHUP, the conventional "reload your configuration". */
    static void onHangup(Runnable action) {
        try {
            Signal.handle(new Signal("HUP"), s -> action.run());
        } catch (IllegalArgumentException e) {
            // no SIGHUP here
        }
    }

    /** SIGUSR1, nginx's "reopen your log files" (logrotate's postrotate sends it). */
    static void onReopenLogs(Runnable action) {
        try {
            Signal.handle(new Signal("USR1"), s -> action.run());
        } catch (IllegalArgumentException e) {
            // no SIGUSR1 here
        }
    }

    static void onTerminate(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> action.run());
            } catch (IllegalArgumentException e) {
                // This platform does not know the signal; the JVM's default handling stays.
            }
        }
    }
}
