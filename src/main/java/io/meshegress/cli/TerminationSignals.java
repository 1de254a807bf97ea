package io.meshegress.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT as requests to stop. Handling them ourselves (rather than letting the JVM run its
 * shutdown hooks and exit with 143) is what lets {@code run} finish its work and exit 0, as Kubernetes and
 * systemd expect of a clean stop.
 */
final class TerminationSignals {
    private TerminationSignals() {
    }

    /**
     * SIGHUP, the conventional "reload your configuration". False when it cannot be handled here: a process
     * started with SIGHUP ignored (as {@code nohup} starts it) keeps it ignored, because HotSpot will not install a
     * handler for a signal that was ignored when the JVM started; {@code Signal.handle} then answers SIG_IGN.
     */
    static boolean onHangup(Runnable action) {
        try {
            return Signal.handle(new Signal("HUP"), s -> action.run()) != SignalHandler.SIG_IGN;
        } catch (IllegalArgumentException e) {
            return false; // no SIGHUP here
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
