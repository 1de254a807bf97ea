package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code transport: io_uring} where the kernel has io_uring but the process may not use it: a seccomp filter
 * refusing io_uring_setup(2) with EPERM, as Docker's default seccomp profile does. The jar must fall back, say
 * why in one log line, and serve; without the filter the same file runs on io_uring.
 */
class TransportFallbackIT {
    @TempDir
    Path dir;
    HttpOrigin origin;
    Path config;

    @BeforeEach
    void start() throws Exception {
        origin = new HttpOrigin("127.0.0.44", 10080);
        config = dir.resolve("egress.yaml");
        Files.writeString(config, """
                transport: io_uring
                http:
                  listen: "127.0.0.43:8080"
                sni: []
                resolver:
                  hosts: {origin.test: 127.0.0.44}
                policy:
                  allow: ["origin.test"]
                  denyNetworks: ["10.0.0.0/8"]
                admin:
                  listen: "127.0.0.43:9901"
                """);
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    @Test
    void refusedIoUringFallsBackWithOneLineSayingWhyAndServes() throws Exception {
        Path wrapper = compileNoIoUring();
        try (JarProcess proxy = JarProcess.startUnder(List.of(wrapper.toString()), "run", "-c", config.toString())) {
            String line = proxy.awaitErr(l -> l.contains("transport: "));
            assertThat(line).contains("transport: epoll (transport: io_uring; io_uring unavailable: ");
            proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.43:9901"));
            assertThat(get()).isEqualTo("200");
            assertThat(proxy.err()).filteredOn(l -> l.contains("transport: ")).hasSize(1);
        }
    }

    @Test
    void withoutTheFilterTheSameFileRunsOnIoUring() throws Exception {
        try (JarProcess proxy = JarProcess.start("run", "-c", config.toString())) {
            assertThat(proxy.awaitErr(l -> l.contains("transport: "))).contains("transport: io_uring (transport: io_uring)");
            proxy.awaitErr(l -> l.contains("listening: admin 127.0.0.43:9901"));
            assertThat(get()).isEqualTo("200");
        }
    }

    private String get() throws Exception {
        return Command.run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                "-x", "http://127.0.0.43:8080", "http://origin.test:10080/hello")).out().trim();
    }

    /** The seccomp wrapper, built from its source with the machine's C compiler. */
    private Path compileNoIoUring() throws Exception {
        Path source = dir.resolve("no-io-uring.c");
        try (InputStream in = getClass().getResourceAsStream("/transport/no-io-uring.c")) {
            Files.copy(in, source);
        }
        Path binary = dir.resolve("no-io-uring");
        Command cc = Command.run(List.of("cc", "-O2", "-o", binary.toString(), source.toString()));
        assertThat(cc.exitCode()).as(cc.err()).isZero();
        return binary;
    }
}
