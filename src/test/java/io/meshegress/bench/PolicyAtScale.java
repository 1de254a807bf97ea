package io.meshegress.bench;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.AllowEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A config with a policy of a given size, as an operator of a large fleet writes it: {@code patterns} host
 * patterns in all, spread evenly over {@code roles} roles (one role: the default role's {@code policy.allow}),
 * about 60 % exact names and 40 % {@code *.} wildcards of two and three labels, under a few hundred vendor
 * domains; each role holds one /24 of 10.0.0.0/8 as its clients. Shared by {@link RouteTableScaleBenchmark}
 * (decision cost) and {@link PolicyHeap} (heap held).
 */
final class PolicyAtScale {
    private PolicyAtScale() {
    }

    /** Pattern {@code i} of a policy: exact names and wildcards mixed, each distinct. */
    static String pattern(int i) {
        String vendor = "vendor" + (i % 397) + (i % 3 == 0 ? ".com" : i % 3 == 1 ? ".io" : ".net");
        return switch (i % 5) {
            case 0 -> "*.svc" + i + "." + vendor;          // a wildcard of a service's own domain
            case 1 -> "*.r" + i + ".cdn." + vendor;         // a deeper wildcard (regional endpoints)
            case 2 -> "api" + i + "." + vendor;             // exact names
            case 3 -> "login" + i + "." + vendor;
            default -> "bucket" + i + ".storage." + vendor;
        };
    }

    /** A host that pattern {@code i} allows: the exact name, or a name under the wildcard. */
    static String hostAllowedBy(int i) {
        String p = pattern(i);
        return p.startsWith("*.") ? "eu-west-1." + p.substring(2) : p;
    }

    /** A host no pattern allows, but that shares a vendor domain with them (the lookup walks its suffixes). */
    static String hostAllowedByNone(int i) {
        return "other" + i + ".vendor" + (i % 397) + ".com";
    }

    /** The client address of role {@code r} (in its /24). */
    static String client(int r) {
        return "10." + (r / 256) + "." + (r % 256) + ".7";
    }

    /** The config file's text; past about 30,000 patterns it is larger than a config file may be (1 MiB). */
    static String yaml(int patterns, int roles) {
        return roles <= 1 ? defaultRoleYaml(0, patterns) : rolesYaml(patterns, roles, 0, roles);
    }

    /** A default role of patterns {@code from} to {@code to}. */
    private static String defaultRoleYaml(int from, int to) {
        StringBuilder y = new StringBuilder(64 + (to - from) * 40);
        y.append("http:\n  listen: \"127.0.0.1:3128\"\npolicy:\n  allow:\n");
        for (int i = from; i < to; i++) {
            y.append("    - \"").append(pattern(i)).append("\"\n");
        }
        return y.toString();
    }

    /** Roles {@code from} to {@code to} of {@code roles}, with their share of the patterns each. */
    private static String rolesYaml(int patterns, int roles, int from, int to) {
        StringBuilder y = new StringBuilder(64 + patterns / roles * (to - from) * 40);
        y.append("http:\n  listen: \"127.0.0.1:3128\"\npolicy:\n  roles:\n");
        int each = Math.max(1, patterns / roles);
        for (int r = from; r < to; r++) {
            y.append("    - name: role-").append(r).append('\n');
            y.append("      clients: [\"10.").append(r / 256).append('.').append(r % 256).append(".0/24\"]\n");
            y.append("      allow:\n");
            for (int i = r * each; i < (r + 1) * each; i++) {
                y.append("        - \"").append(pattern(i)).append("\"\n");
            }
        }
        return y.toString();
    }

    /**
     * The loaded config. A policy larger than one file may hold (and than the YAML reader's own limit of 3 million
     * characters) is read in parts of at most {@value #PART} patterns, whose allow-lists or roles are then joined
     * into one policy: what the route table would be given if a file could hold it.
     */
    static EgressConfig config(int patterns, int roles) {
        if (patterns <= PART) {
            return parse(yaml(patterns, roles));
        }
        EgressConfig first = null;
        List<AllowEntry> allow = new ArrayList<>();
        List<EgressConfig.Role> named = new ArrayList<>();
        if (roles <= 1) {
            for (int from = 0; from < patterns; from += PART) {
                EgressConfig part = parse(defaultRoleYaml(from, Math.min(patterns, from + PART)));
                first = first == null ? part : first;
                allow.addAll(part.policy().allow());
            }
        } else {
            int rolesPerPart = Math.max(1, PART / Math.max(1, patterns / roles));
            for (int from = 0; from < roles; from += rolesPerPart) {
                EgressConfig part = parse(rolesYaml(patterns, roles, from, Math.min(roles, from + rolesPerPart)));
                first = first == null ? part : first;
                named.addAll(part.policy().roles());
            }
        }
        EgressConfig.Policy p = first.policy();
        EgressConfig.Policy joined = new EgressConfig.Policy(allow, p.deny(), p.denyNetworks(), p.clients(), p.mode(),
                named);
        return new EgressConfig(first.source(), first.http(), first.sni(), first.resolver(), first.timeouts(), joined,
                first.limits(), first.admin(), first.accessLog(), first.mesh(), first.transport(), first.identity());
    }

    private static final int PART = 20_000;

    private static EgressConfig parse(String text) {
        try {
            return ConfigLoader.parse("scale.yaml", text);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * 1,024 hosts to ask about in turn: half allowed (by a pattern of the client's role), half allowed by none.
     * {@code first} and {@code count}: the patterns of the client's role.
     */
    static String[] hosts(int first, int count) {
        SplittableRandom random = new SplittableRandom(42);
        String[] hosts = new String[1024];
        for (int i = 0; i < hosts.length; i++) {
            int k = first + random.nextInt(count);
            hosts[i] = i % 2 == 0 ? hostAllowedBy(k) : hostAllowedByNone(k);
        }
        return hosts;
    }
}
