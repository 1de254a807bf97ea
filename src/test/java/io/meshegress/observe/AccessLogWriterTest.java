package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer on a real file: lines formatted by several threads at once each arrive whole, exactly once, in the
 * chosen format, and the writer flushes without being closed.
 */
class AccessLogWriterTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static AccessEntry entry(int thread, int i) {
        return new AccessEntry(Instant.parse("2026-12-02T10:00:00Z"), "http 127.0.0.1:8080", "127.0.0.5:" + (1000 + i),
                null, "default", "http", "h" + thread + ".example.test", 443, "192.0.2.1:443", "allowed",
                "policy.allow[0] \"*.example.test\" \u00e9\u4e2d", null, 200, null, i, 2L * i, 1);
    }

    @Test
    void linesFromManyThreadsArriveWholeAndOnce(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        ProxyMetrics metrics = new ProxyMetrics();
        int threads = 4;
        int perThread = 5_000;
        try (AccessLogWriter w = AccessLogWriter.open(file.toString(), "json", metrics)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < perThread; i++) {
                        w.write(entry(id, i));
                    }
                });
                th.start();
                ts.add(th);
            }
            start.countDown();
            for (Thread th : ts) {
                th.join();
            }
            // Written by the writer's own flush, before close.
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> Files.readAllLines(file, StandardCharsets.UTF_8).size() == threads * perThread);
        }
        Set<String> seen = new HashSet<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            JsonNode n = JSON.readTree(line);
            assertThat(n.get("reason").asText()).endsWith("\u00e9\u4e2d");
            assertThat(seen.add(n.get("host").asText() + "/" + n.get("bytesUp").asLong())).isTrue();
        }
        assertThat(seen).hasSize(threads * perThread);
        assertThat(metrics.scrape()).doesNotContain("meshegress_access_log_dropped_total 1");
    }

    @Test
    void textLinesAreTheTextFormatOnePerEntry(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLogWriter w = AccessLogWriter.open(file.toString(), "text", new ProxyMetrics())) {
            w.write(entry(1, 1));
            w.write(entry(1, 2));
        }
        assertThat(Files.readAllLines(file, StandardCharsets.UTF_8))
                .containsExactly(AccessLogFormats.text(entry(1, 1)), AccessLogFormats.text(entry(1, 2)));
    }

    @Test
    void aBacklogBeyondTheBoundIsDroppedAndCounted(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        ProxyMetrics metrics = new ProxyMetrics();
        int lines;
        try (AccessLogWriter w = AccessLogWriter.open(file.toString(), "json", metrics)) {
            // Faster than any writer drains: more than the bound is offered between two flushes at least once.
            for (int i = 0; i < 4 * AccessLogWriter.QUEUE; i++) {
                w.write(entry(0, i));
            }
        }
        lines = Files.readAllLines(file, StandardCharsets.UTF_8).size();
        String dropped = metrics.scrape().lines().filter(l -> l.startsWith("meshegress_access_log_dropped_total"))
                .findFirst().orElse("meshegress_access_log_dropped_total 0");
        long droppedCount = (long) Double.parseDouble(dropped.substring(dropped.lastIndexOf(' ') + 1));
        assertThat(lines + droppedCount).isEqualTo(4L * AccessLogWriter.QUEUE);
    }

    /**
     * A string with an unpaired surrogate (a YAML escape in a role name can make one) must not cost the line or
     * the lines after it: the UTF-8 generator refuses to encode one and used to leave half a line behind.
     */
    @Test
    void unpairedSurrogatesCostNoLineAndTheFileMatchesTheStringForm(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        AccessEntry odd = new AccessEntry(Instant.parse("2026-12-02T10:00:00.123456Z"), "sni 127.0.0.1:8443",
                "127.0.0.5:1000", "127.0.0.6:2000", "role-\ud800-\udc00x", "sni", "h.example.test", 443, null,
                "refused", "a pair \ud83d\ude00 stays, a lone \udfff goes", "would \ud800", 403, "handshake_failure", 0,
                0, 5);
        ProxyMetrics metrics = new ProxyMetrics();
        try (AccessLogWriter w = AccessLogWriter.open(file.toString(), "json", metrics)) {
            w.write(odd);
            w.write(entry(1, 1));
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        JsonNode n = JSON.readTree(lines.get(0));
        assertThat(n.get("role").asText()).isEqualTo("role-\ufffd-\ufffdx");
        assertThat(n.get("reason").asText()).isEqualTo("a pair \ud83d\ude00 stays, a lone \ufffd goes");
        assertThat(n.get("time").asText()).isEqualTo("2026-12-02T10:00:00.123456Z");
        assertThat(lines.get(1)).isEqualTo(AccessLogFormats.json(entry(1, 1)));
        assertThat(metrics.scrape()).doesNotContain("meshegress_access_log_dropped_total 1");
    }
}
