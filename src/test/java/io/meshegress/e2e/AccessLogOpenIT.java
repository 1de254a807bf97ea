package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's account cannot write the access log: {@code check} (the unit's ExecStartPre) and {@code run}, run
 * by the built jar as another user ({@code nobody}, through util-linux's {@code runuser}, as systemd runs the
 * unit's User=), both fail and say why, with the owner, the mode and the uid the kernel judged.
 */
class AccessLogOpenIT {
    @TempDir
    Path dir;
    String nobodyUid;

    @BeforeEach
    void asRootWithRunuser() throws Exception {
        Command id = Command.run(List.of("id", "-u"));
        assertThat(id.out().strip().equals("0") && Files.isExecutable(Path.of("/usr/sbin/runuser")))
                .as("the suite runs as root, with util-linux's runuser, to run the jar as another user").isTrue();
        nobodyUid = Command.run(List.of("id", "-u", "nobody")).out().strip();
        // The other user must reach the config (JUnit's temporary directory is 0700).
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Path config(Path log) throws Exception {
        Path c = Files.writeString(dir.resolve("egress.yaml"), """
                http:
                  listen: "127.0.0.94:18080"  # never bound: each run stops at the log
                admin: null
                policy:
                  allow: [example.com]
                accessLog:
                  destination: "%s"
                """.formatted(log));
        Files.setPosixFilePermissions(c, PosixFilePermissions.fromString("rw-r--r--"));
        return c;
    }

    private static Command asNobody(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/sbin/runuser", "-u", "nobody", "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                JarProcess.jar().toAbsolutePath().toString()));
        command.addAll(List.of(args));
        return Command.run(command);
    }

    private void bothSay(Path log, String why) throws Exception {
        Path config = config(log);
        String expected = "mesh-egress: cannot open the access log " + log + " for append: " + why;
        for (String command : List.of("check", "run")) {
            Command r = asNobody(command, "-c", config.toString());
            assertThat(r.exitCode()).as(command + ": " + r.out() + r.err()).isEqualTo(1);
            assertThat(r.err().strip()).as(command).isEqualTo(expected);
        }
    }

    @Test
    void aRootOwnedLogTheServiceCannotAppendTo() throws Exception {
        Path log = Files.writeString(dir.resolve("access.log"), "");
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r--r--"));
        bothSay(log, "permission denied (owner root, mode 0644, running as uid " + nobodyUid + ")");
        assertThat(log).isEmptyFile();
    }

    @Test
    void aMissingLogInADirectoryTheServiceCannotWrite() throws Exception {
        Path logs = Files.createDirectory(dir.resolve("logs"));
        Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path log = logs.resolve("access.log");
        bothSay(log, "permission denied to create it in " + logs + " (owner root, mode 0755, running as uid "
                + nobodyUid + ")");
        assertThat(log).doesNotExist();
    }

    @Test
    void theSameCasesAsForRootHoldForAnotherUser() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        bothSay(file.resolve("access.log"), file + " is not a directory");
        bothSay(dir.resolve("missing/access.log"), "no such directory " + dir.resolve("missing"));
    }

    @Test
    void aLogTheServiceOwnsPasses() throws Exception {
        Path logs = Files.createDirectory(dir.resolve("owned"));
        Command chown = Command.run(List.of("chown", "nobody", logs.toString()));
        assertThat(chown.exitCode()).as(chown.err()).isZero();
        Command r = asNobody("check", "-c", config(logs.resolve("access.log")).toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains(": ok");
    }
}
