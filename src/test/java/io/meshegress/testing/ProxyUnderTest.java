package io.meshegress.testing;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.server.EgressServer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** mesh-egress started in the test's JVM from a YAML text, with its access log kept for assertions. */
public final class ProxyUnderTest implements AutoCloseable {
    private final EgressServer server;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final ConcurrentLinkedQueue<AccessEntry> entries = new ConcurrentLinkedQueue<>();

    public ProxyUnderTest(String yaml) throws Exception {
        EgressConfig config = ConfigLoader.parse("test.yaml", yaml);
        this.server = EgressServer.start(config, AccessLog.metered(metrics, entries::add), metrics);
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public EgressServer server() {
        return server;
    }

    public List<AccessEntry> entries() {
        return List.copyOf(entries);
    }

    /** Waits for the access-log line of a connection matching {@code filter} (it is written when both sides close). */
    public AccessEntry awaitEntry(Predicate<AccessEntry> filter) {
        return Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> entries.stream().filter(filter).findFirst().orElse(null), e -> e != null);
    }

    @Override
    public void close() {
        server.close();
    }
}
