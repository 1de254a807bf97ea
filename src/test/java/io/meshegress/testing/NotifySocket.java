package io.meshegress.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/**
 * The receiving end of systemd's notification protocol, as sd_notify(3) describes it: an AF_UNIX datagram socket
 * (here bound by python3, not by our code) whose address a service finds in $NOTIFY_SOCKET. Each datagram is kept
 * as one message, its newlines shown as {@code |}.
 */
public final class NotifySocket implements AutoCloseable {
    private static final String RECEIVER = """
            import socket, sys
            name = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("\\0" + name[1:] if name.startswith("@") else name)
            print("bound", flush=True)
            while True:
                print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
            """;

    private final String address;
    private final Process process;
    private final List<String> messages = new CopyOnWriteArrayList<>();

    private NotifySocket(String address, Process process) {
        this.address = address;
        this.process = process;
    }

    /** Binds a path, or an abstract name written {@code @name}. */
    public static NotifySocket bind(String address) throws IOException {
        Process p = new ProcessBuilder("python3", "-u", "-c", RECEIVER, address).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String first = r.readLine();
        if (!"bound".equals(first)) {
            p.destroyForcibly();
            throw new IllegalStateException("the notify socket receiver did not start: " + first);
        }
        NotifySocket socket = new NotifySocket(address, p);
        Thread pump = new Thread(() -> {
            try {
                for (String l; (l = r.readLine()) != null; ) {
                    socket.messages.add(l);
                }
            } catch (IOException e) {
                // the receiver ended
            }
        }, "notify-socket");
        pump.setDaemon(true);
        pump.start();
        return socket;
    }

    /** The value for $NOTIFY_SOCKET. */
    public String address() {
        return address;
    }

    /** Every message so far, in order. */
    public List<String> messages() {
        return List.copyOf(messages);
    }

    /** Waits (at most 30 s) until {@code count} messages have arrived that match. */
    public void await(int count, Predicate<String> match) {
        Awaitility.await("notification #" + count + "; so far " + messages).atMost(Duration.ofSeconds(30))
                .until(() -> messages.stream().filter(match).count() >= count);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
