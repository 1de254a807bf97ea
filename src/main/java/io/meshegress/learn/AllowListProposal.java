package io.meshegress.learn;

import com.google.common.net.InternetDomainName;
import io.meshegress.policy.HostPattern;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns the hosts one role reached into allow-list entries, each limited to the ports it was reached on: a
 * proposal never allows a host on a port the traffic did not show. Each name is proposed as it was seen, unless
 * the user asks for collapsing: then more than {@code collapseAbove} distinct names under one registrable domain
 * become {@code *.domain} on the ports of those names (saying so), the one widening learn makes, and only on
 * request. The registrable domain comes from the Public Suffix List (Guava's copy), so a wildcard is never
 * proposed over a public suffix ({@code *.co.uk}, {@code *.com}, {@code *.github.io}); an IP literal, or a name
 * under no known suffix, is only ever proposed exactly.
 */
public final class AllowListProposal {

    /** One proposed entry: a host pattern on exactly these ports, and the evidence for it (a YAML comment). */
    public record Entry(String pattern, List<Integer> ports, String evidence) {
    }

    private AllowListProposal() {
    }

    /** @param collapseAbove empty: every name exactly as seen */
    public static List<Entry> propose(Map<String, TrafficProfile.HostUse> hosts, OptionalInt collapseAbove,
                                      long minCount) {
        Map<String, List<String>> underDomain = new TreeMap<>();
        List<String> exact = new ArrayList<>();
        for (Map.Entry<String, TrafficProfile.HostUse> h : hosts.entrySet()) {
            if (h.getValue().count < minCount) {
                continue;
            }
            Optional<String> domain = collapseAbove.isEmpty() ? Optional.empty()
                    : registrableDomain(h.getKey()).filter(d -> !d.equals(h.getKey()));
            if (domain.isPresent()) {
                underDomain.computeIfAbsent(domain.get(), d -> new ArrayList<>()).add(h.getKey());
            } else {
                exact.add(h.getKey());
            }
        }
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> d : underDomain.entrySet()) {
            List<String> names = d.getValue();
            if (names.size() > collapseAbove.getAsInt()) {
                out.add(new Entry("*." + d.getKey(), ports(hosts, names), names.size() + " names seen under "
                        + d.getKey() + " (more than " + collapseAbove.getAsInt() + "): " + sample(names) + "; "
                        + evidence(hosts, names)));
            } else {
                exact.addAll(names);
            }
        }
        for (String name : exact) {
            out.add(new Entry(name, ports(hosts, List.of(name)), evidence(hosts, List.of(name))));
        }
        out.sort((a, b) -> a.pattern().compareTo(b.pattern()));
        return out;
    }

    /** How many hosts fell under {@code minCount}, for the report. */
    public static long belowMinCount(Map<String, TrafficProfile.HostUse> hosts, long minCount) {
        return hosts.values().stream().filter(u -> u.count < minCount).count();
    }

    /** The registrable domain (public suffix plus one label) of a host name; empty for literals and unknowns. */
    static Optional<String> registrableDomain(String host) {
        if (HostPattern.isIpLiteral(host) || !InternetDomainName.isValid(host)) {
            return Optional.empty();
        }
        InternetDomainName name = InternetDomainName.from(host);
        if (!name.isUnderPublicSuffix()) {
            return Optional.empty();
        }
        return Optional.of(name.topPrivateDomain().toString());
    }

    private static String sample(List<String> names) {
        List<String> first = names.subList(0, Math.min(3, names.size()));
        return String.join(", ", first) + (names.size() > first.size() ? ", ..." : "");
    }

    private static List<Integer> ports(Map<String, TrafficProfile.HostUse> hosts, List<String> names) {
        TreeSet<Integer> ports = new TreeSet<>();
        names.forEach(n -> ports.addAll(hosts.get(n).ports.keySet()));
        return List.copyOf(ports);
    }

    private static String evidence(Map<String, TrafficProfile.HostUse> hosts, List<String> names) {
        long count = 0;
        long wouldRefuse = 0;
        for (String n : names) {
            TrafficProfile.HostUse u = hosts.get(n);
            count += u.count;
            wouldRefuse += u.wouldRefuse;
        }
        return count + (count == 1 ? " connection" : " connections")
                + (wouldRefuse > 0 ? ", " + wouldRefuse + " allowed only by report mode" : "");
    }
}
