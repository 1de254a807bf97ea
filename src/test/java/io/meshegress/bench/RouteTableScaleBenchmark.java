package io.meshegress.bench;

import io.meshegress.proxy.Destination;
import io.meshegress.proxy.RouteTable;
import io.meshegress.policy.Role;
import java.net.InetAddress;
import java.net.UnknownHostException;
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
 * What one route-table decision costs as the policy grows ({@link PolicyAtScale}: {@code patterns} host patterns
 * spread over {@code roles} roles). The client is in the last role, the worst case of a first-match role lookup;
 * half of the hosts asked about are allowed, half refused.
 * <ul>
 *   <li>{@code decideForClient}: {@code RouteTable.decide(client, SNI, host, 443)}, the whole decision for a
 *       client known by address (admission, role, name, port), as {@code check} and {@code /explain} ask it; a
 *       connection pays the same, split between its head (admission and role, once) and its destination;</li>
 *   <li>{@code decideInRole}: rules 2 to 4 for a client whose role is known, what each request or tunnel pays.</li>
 * </ul>
 * Run with {@code bench/jmh RouteTableScale -p patterns=100000 -p roles=1}; {@code bench/scale} sweeps both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class RouteTableScaleBenchmark {
    @Param({"10", "1000", "100000"})
    int patterns;

    @Param({"1", "100"})
    int roles;

    private RouteTable routes;
    private InetAddress client;
    private Role role;
    private String[] hosts;
    private int next;

    @Setup
    public void setup() throws UnknownHostException {
        routes = new RouteTable(PolicyAtScale.config(patterns, roles));
        int last = roles - 1;
        client = InetAddress.getByName(roles <= 1 ? "10.0.0.7" : PolicyAtScale.client(last));
        role = routes.role(client);
        int each = roles <= 1 ? patterns : Math.max(1, patterns / roles);
        hosts = PolicyAtScale.hosts(roles <= 1 ? 0 : last * each, each);
        if (!routes.decide(client, Destination.Kind.SNI, hosts[0], 443).allowed()
                || routes.decide(client, Destination.Kind.SNI, hosts[1], 443).allowed()) {
            throw new IllegalStateException("the policy does not decide as the benchmark means: " + hosts[0]
                    + " allowed, " + hosts[1] + " refused for " + client + " (role " + role.name() + ")");
        }
    }

    @Benchmark
    public boolean decideForClient() {
        return routes.decide(client, Destination.Kind.SNI, hosts[next++ & 1023], 443).allowed();
    }

    @Benchmark
    public boolean decideInRole() {
        return routes.decide(role, Destination.Kind.SNI, hosts[next++ & 1023], 443).allowed();
    }
}
