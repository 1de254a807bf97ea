package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.JarProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar binds exactly the listeners a file writes: a file with only {@code http} holds one listening
 * socket, seen from outside the process (its socket descriptors in /proc/PID/fd matched against the kernel's
 * LISTEN table in /proc/net/tcp and tcp6), and no SNI listener on 8443; a file with no listener is exit 2 with
 * file:line, for {@code run} as for {@code check}.
 */
class DeclaredListenersIT {
    static final String ADDRESS = "127.0.25.20";

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ADDRESS))) {
            return s.getLocalPort();
        }
    }

    @Test
    void aFileWithOnlyHttpListensOnItsOneAddressAndNothingElse(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = Files.writeString(dir.resolve("egress.yaml"), """
                http:
                  listen: "%s:%d"
                admin: null
                policy:
                  allow: [api.example.com]
                """.formatted(ADDRESS, port));
        try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
            proxy.awaitErr(l -> l.contains("listening: http " + ADDRESS + ":" + port));
            assertThat(listeningSockets(proxy.process().pid())).containsExactly(ADDRESS + ":" + port);
            assertThat(proxy.err()).noneMatch(l -> l.contains("listening: sni"));
        }
    }

    @Test
    void aFileWithNoListenerIsExitTwoAtItsFirstLineForRunAndCheck(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("egress.yaml"), """
                # a policy, and nothing that listens
                policy:
                  allow: [api.example.com]
                """);
        for (String command : List.of("run", "check")) {
            JarProcess p = JarProcess.runToEnd(command, "-c", config.toString());
            assertThat(p.exitCode()).as(command).isEqualTo(2);
            assertThat(p.err()).as(command).hasSize(1);
            assertThat(p.err().get(0)).startsWith(config + ":2:1: no listener: declare http");
        }
    }

    /**
     * The local addresses of the sockets in LISTEN state that process {@code pid} holds: /proc/net/tcp's rows
     * (proc(5): local_address is hex address:port, the address in the kernel's byte order; st 0A is LISTEN)
     * whose inode is one of the process's socket descriptors.
     */
    static Set<String> listeningSockets(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException gone) {
                    // a descriptor closed while listing
                }
            }
        }
        Set<String> listening = new TreeSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> rows = Files.readAllLines(Path.of(table));
            for (String row : rows.subList(1, rows.size())) {
                String[] f = row.trim().split("\\s+");
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    listening.add(address(f[1]));
                }
            }
        }
        return listening;
    }

    /** {@code 1419007F:1F90} as {@code 127.0.25.20:8080}; an IPv4-mapped tcp6 row as its IPv4 address. */
    static String address(String hex) {
        String[] parts = hex.split(":");
        String a = parts[0];
        int port = Integer.parseInt(parts[1], 16);
        byte[] bytes = new byte[a.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            // Each 32-bit word is printed in host (little-endian) order.
            for (int i = 0; i < 4; i++) {
                bytes[word * 4 + i] = (byte) Integer.parseInt(a.substring(word * 8 + (3 - i) * 2, word * 8 + (3 - i) * 2 + 2), 16);
            }
        }
        try {
            return InetAddress.getByAddress(bytes).getHostAddress() + ":" + port;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
