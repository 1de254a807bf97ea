package io.meshegress.bench;

import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.RouteTable;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;

/**
 * The heap a policy of a given size holds: the loaded config and its route table, kept reachable, measured as
 * the used heap after full collections with it against without it (the YAML text and the parser's garbage are
 * gone by then). Also the time to load it (parse, check and build), which is what a reload of that file costs.
 * Prints one line per size: {@code patterns roles heap_bytes load_ms yaml_bytes} (the last: the size of the
 * file that policy is, against the 1 MiB a config file may be).
 * Run by {@code bench/scale} with the JMH classpath: {@code java -XX:+UseSerialGC ... PolicyHeap 10:1 100000:1 ...}.
 */
public final class PolicyHeap {
    private PolicyHeap() {
    }

    public static void main(String[] args) {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        // Load each size once unmeasured: the classes and caches a first load brings are not the policy's.
        for (String arg : args) {
            String[] size = arg.split(":");
            new RouteTable(PolicyAtScale.config(Integer.parseInt(size[0]), Integer.parseInt(size[1])));
        }
        // And one measurement unprinted: the first full collections release what start-up left (about 2 MB).
        measure(memory, 10, 1, false);
        for (String arg : args) {
            String[] size = arg.split(":");
            measure(memory, Integer.parseInt(size[0]), Integer.parseInt(size[1]), true);
        }
    }

    /** Held here while measured, and only then (a local of a loop may stay reachable in its frame). */
    private static Object held;

    private static void measure(MemoryMXBean memory, int patterns, int roles, boolean print) {
        held = null;
        long before = settledHeap(memory);
        long t0 = System.nanoTime();
        EgressConfig config = PolicyAtScale.config(patterns, roles);
        held = new Object[] {config, new RouteTable(config)};
        long loadNanos = System.nanoTime() - t0;
        long after = settledHeap(memory);
        held = null;
        if (print) {
            System.out.printf("%d\t%d\t%d\t%.1f\t%d%n", patterns, roles, after - before, loadNanos / 1e6,
                    PolicyAtScale.yaml(patterns, roles).getBytes(StandardCharsets.UTF_8).length);
        }
    }

    private static long settledHeap(MemoryMXBean memory) {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
