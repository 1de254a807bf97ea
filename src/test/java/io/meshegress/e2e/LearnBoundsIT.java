package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.JarProcess;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile log: a gzip file of about a megabyte that expands to one line of a gibibyte, between ordinary lines.
 * The built jar's {@code learn}, in a heap of 128 MiB, reads past it without holding it, proposes from the other
 * lines, and names the skipped line in its summary.
 */
class LearnBoundsIT {
    static final long GIB = 1L << 30;

    static String line(String host, int port) {
        return "{\"time\":\"2026-12-01T10:00:00Z\",\"listener\":\"http 127.0.0.1:8080\",\"client\":\"127.0.0.1:5555\","
                + "\"role\":\"default\",\"kind\":\"http\",\"host\":\"" + host + "\",\"port\":" + port
                + ",\"resolved\":\"192.0.2.1\",\"decision\":\"allowed\",\"reason\":\"x\",\"status\":200}\n";
    }

    @Test
    void aGibibyteLineInAMegabyteGzipIsSkippedInASmallHeap(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("egress.yaml"), """
                http:
                  listen: "127.0.0.1:8080"
                admin: null
                policy:
                  allow: ["*.example.com"]
                """);
        Path log = dir.resolve("access.log.1.gz");
        byte[] block = new byte[1 << 20];
        Arrays.fill(block, (byte) 'a');
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(log), 1 << 16)) {
            out.write(line("before.example.com", 443).getBytes(StandardCharsets.UTF_8));
            // One line of 1 GiB that starts like an access-log entry (its host name never ends).
            byte[] start = "{\"time\":\"2026-12-01T10:00:00Z\",\"host\":\"".getBytes(StandardCharsets.UTF_8);
            out.write(start);
            for (long written = start.length; written < GIB; written += block.length) {
                out.write(block, 0, (int) Math.min(block.length, GIB - written));
            }
            out.write('\n');
            out.write(line("after.example.com", 8443).getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Files.size(log)).isLessThan(2L << 20);

        JarProcess learn = JarProcess.start(List.of("-Xmx128m", "-XX:+ExitOnOutOfMemoryError"), "learn", "-c",
                config.toString(), log.toString());
        int status = learn.awaitExit();
        String err = String.join("\n", learn.err());
        assertThat(status).as(err).isZero();
        assertThat(err).contains("3 lines read: 2 allowed connections used")
                .contains("1 longer than 65536 bytes, skipped (" + log + ":2)");
        assertThat(String.join("\n", learn.out())).contains("- {host: \"after.example.com\", ports: [8443]}")
                .contains("- {host: \"before.example.com\", ports: [443]}");
    }
}
