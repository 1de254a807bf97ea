package io.meshegress.transport;

import java.util.Arrays;
import java.util.Optional;

/** The socket layer a configuration asks for ({@code transport:}); {@link #AUTO} lets {@link Transport} pick. */
public enum TransportChoice {
    AUTO("auto"),
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String configName;

    TransportChoice(String configName) {
        this.configName = configName;
    }

    /** The word the configuration file uses. */
    public String configName() {
        return configName;
    }

    public static Optional<TransportChoice> named(String word) {
        return Arrays.stream(values()).filter(c -> c.configName.equals(word)).findFirst();
    }
}
