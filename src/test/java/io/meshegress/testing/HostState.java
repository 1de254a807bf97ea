package io.meshegress.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What this machine holds of a package, as this JVM sees it (outside any throwaway root): dpkg's record of it,
 * its account in /etc/passwd and /etc/group, and every file under the given paths with the SHA-256 of its bytes.
 * Two snapshots are equal when nothing of it changed.
 */
public record HostState(Map<String, String> entries) {

    public static HostState now(List<String> paths) throws Exception {
        Map<String, String> entries = new TreeMap<>();
        Command dpkg = Command.run(List.of("dpkg-query", "-W", "-f", "${Status} ${Version}\\n", "mesh-egress"));
        entries.put("dpkg: mesh-egress", dpkg.exitCode() + " " + dpkg.out().strip());
        for (String db : List.of("/etc/passwd", "/etc/group")) {
            entries.put(db + ": mesh-egress", String.join("\n", Files.readAllLines(Path.of(db)).stream()
                    .filter(l -> l.startsWith("mesh-egress:")).toList()));
        }
        for (String p : paths) {
            Path path = Path.of(p);
            if (!Files.exists(path)) {
                entries.put(p, "absent");
                continue;
            }
            try (Stream<Path> files = Files.walk(path)) {
                for (Path f : files.toList()) {
                    entries.put(f.toString(), Files.isRegularFile(f) ? sha256(f) : "directory");
                }
            }
        }
        return new HostState(entries);
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
