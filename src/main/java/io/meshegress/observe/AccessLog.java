package io.meshegress.observe;

/** Where access-log entries go. Called on event loops: implementations must not block for long. */
@FunctionalInterface
public interface AccessLog {
    void log(AccessEntry entry);
}
