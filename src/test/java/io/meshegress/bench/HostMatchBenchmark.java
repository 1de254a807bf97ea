package io.meshegress.bench;

import io.meshegress.policy.HostMatcher;
import io.meshegress.policy.HostPattern;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Policy matching must not slow down as the allow-list grows: {@link HostMatcher} hashes the host's suffixes,
 * so the cost follows the number of labels in the name, not the number of patterns. {@code linearScan} is the
 * loop over every pattern that it replaces, for comparison. Run with {@code bench/jmh HostMatch}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HostMatchBenchmark {
    @Param({"10", "1000", "10000"})
    int patterns;

    private HostMatcher<String> matcher;
    private List<HostPattern> list;
    private String[] hosts;
    private int next;

    @Setup
    public void setup() {
        matcher = new HostMatcher<>();
        list = new ArrayList<>();
        for (int i = 0; i < patterns; i++) {
            HostPattern p = HostPattern.parse(i % 2 == 0 ? "*.d" + i + ".example.com" : "api" + i + ".example.net");
            matcher.add(p, p.toString());
            list.add(p);
        }
        SplittableRandom random = new SplittableRandom(42);
        hosts = new String[1024];
        for (int i = 0; i < hosts.length; i++) {
            int k = random.nextInt(patterns * 2);
            // Half hit (a wildcard at depth 2 or an exact name), half miss.
            hosts[i] = k % 2 == 0 ? "a.b.d" + k + ".example.com" : "api" + k + ".example.org";
        }
    }

    @Benchmark
    public int hashedSuffixes() {
        return matcher.matches(hosts[next++ & 1023]).size();
    }

    @Benchmark
    public int linearScan() {
        String host = hosts[next++ & 1023];
        int n = 0;
        for (HostPattern p : list) {
            if (p.matches(host)) {
                n++;
            }
        }
        return n;
    }
}
