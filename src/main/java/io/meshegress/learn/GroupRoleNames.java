package io.meshegress.learn;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The role name learn gives each workload group: its namespace, or {@code NAMESPACE-SERVICEACCOUNT} (a dot of a
 * service account's name written as {@code -}). Where that name cannot be a role's (longer than a DNS label's 63
 * characters, {@code default}, a role the config already has, or the name of a group before it) it is cut to 54
 * characters and ends in {@code -} and the first eight hex digits of the SHA-256 of {@code namespace/serviceAccount}
 * instead: the same group always gets the same name, and no two groups one.
 */
final class GroupRoleNames {
    private static final int MAX = 63;
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private GroupRoleNames() {
    }

    /** A name per group, in the groups' order; {@code taken} are the config's role names. */
    static Map<TrafficProfile.WorkloadGroup, String> names(Collection<TrafficProfile.WorkloadGroup> groups,
                                                          Set<String> taken) {
        Set<String> used = new TreeSet<>(taken);
        used.add("default");
        Map<TrafficProfile.WorkloadGroup, String> names = new LinkedHashMap<>();
        for (TrafficProfile.WorkloadGroup g : groups) {
            String plain = g.serviceAccount() == null ? g.namespace()
                    : g.namespace() + "-" + g.serviceAccount().replace('.', '-');
            String name = plain;
            for (int attempt = 0; name.length() > MAX || !DNS_LABEL.matcher(name).matches() || used.contains(name);
                 attempt++) {
                String stem = plain.substring(0, Math.min(plain.length(), MAX - 9)).replaceAll("-+$", "");
                name = stem + "-" + hash(g.namespace() + "/" + (g.serviceAccount() == null ? "" : g.serviceAccount())
                        + (attempt == 0 ? "" : "#" + attempt));
            }
            used.add(name);
            names.put(g, name);
        }
        return names;
    }

    private static String hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
