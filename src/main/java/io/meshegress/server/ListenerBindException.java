package io.meshegress.server;

/** A listener could not be bound; the message is the user's one line ("127.0.0.1:8080 is already in use"). */
public final class ListenerBindException extends Exception {
    public ListenerBindException(String message, Throwable cause) {
        super(message, cause);
    }
}
