package io.meshegress.mesh;

import io.meshegress.policy.HostPattern;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Kubernetes names for the objects of one destination, derived from its hosts: valid DNS-1123 labels and the
 * same on every run ({@code *.qq.com} gives {@code wildcard-qq-com}). A destination with several hosts, or a
 * name that would be too long, gets a short hash of all its hosts so that names cannot collide.
 */
public final class ManifestNames {
    static final int MAX = 63;

    private ManifestNames() {
    }

    public static String forDestination(List<HostPattern> hosts) {
        String base = slug(hosts.get(0));
        if (hosts.size() == 1 && base.length() <= MAX) {
            return base;
        }
        String hash = shortHash(hosts.stream().map(HostPattern::toString).collect(Collectors.joining(",")));
        int room = MAX - hash.length() - 1;
        String head = base.length() > room ? base.substring(0, room) : base;
        while (head.endsWith("-")) {
            head = head.substring(0, head.length() - 1);
        }
        return head + "-" + hash;
    }

    static String slug(HostPattern host) {
        String s = host.toString().toLowerCase().replace("*", "wildcard").replace('.', '-').replace('_', '-');
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
                out.append(c);
            }
        }
        String r = out.toString().replaceAll("-+", "-").replaceAll("^-|-$", "");
        if (r.isEmpty() || !Character.isLetter(r.charAt(0))) {
            r = "host-" + r;
        }
        return r;
    }

    private static String shortHash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
