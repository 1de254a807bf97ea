package io.meshegress.policy;

import java.util.List;
import java.util.Optional;

/**
 * One allow-list entry: a host pattern, on any port or only on the ports listed. The ports are a rule on the
 * name, for every listener kind (the port of a plain HTTP request, of a CONNECT, an SNI listener's upstream
 * port); they open no CONNECT port: a CONNECT still needs its port in the role's CONNECT ports.
 *
 * @param ports empty: any port
 */
public record AllowEntry(HostPattern host, Optional<List<Integer>> ports) {
    public AllowEntry {
        ports = ports.map(List::copyOf);
        if (ports.isPresent() && ports.get().isEmpty()) {
            throw new IllegalArgumentException("an entry limited to ports needs at least one port");
        }
    }

    public static AllowEntry anyPort(HostPattern host) {
        return new AllowEntry(host, Optional.empty());
    }

    public static AllowEntry onPorts(HostPattern host, List<Integer> ports) {
        return new AllowEntry(host, Optional.of(ports));
    }

    /** The pattern alone, or {@code pattern ports [443, 8443]}, as check and decisions print it. */
    @Override
    public String toString() {
        return ports.map(p -> host + " ports " + p).orElse(host.toString());
    }
}
