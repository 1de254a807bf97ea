package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The Debian package as an operator meets it, on this machine for real (as root, which CI is): lintian finds no
 * error; dpkg installs it and creates the system user; systemd-analyze verifies the unit and rates its exposure
 * at most 2.5; the installed command checks the installed file; the unit's own command line, run as the system
 * user, proxies a request and stops cleanly on SIGTERM; a reinstall keeps a changed conffile; a purge leaves
 * nothing behind.
 */
class DebianPackageIT {
    static final Path UNIT = Path.of("/lib/systemd/system/mesh-egress.service");
    static final Path CONF = Path.of("/etc/mesh-egress/egress.yaml");
    static final Path CACHE = Path.of("/var/cache/mesh-egress");
    static final List<Path> INSTALLED = List.of(Path.of("/usr/bin/mesh-egress"), Path.of("/usr/share/mesh-egress"),
            CONF.getParent(), UNIT, Path.of("/usr/share/doc/mesh-egress"), Path.of("/usr/share/man/man1/mesh-egress.1.gz"));

    @Test
    void installsChecksServesAndPurgesCleanly() throws Exception {
        assertThat(run("id", "-u").out().strip()).as("these tests install a package: run them as root (CI does)")
                .isEqualTo("0");
        Path deb = builtPackage();
        Command lintian = run("lintian", "--fail-on", "error", deb.toString());
        assertThat(lintian.exitCode()).as(lintian.out() + lintian.err()).isZero();
        assertThat(lintian.out()).doesNotContain("E: ");

        try {
            install(deb);
            assertThat(run("getent", "passwd", "mesh-egress").out()).contains("/nonexistent").contains("/usr/sbin/nologin");
            for (Path p : INSTALLED) {
                assertThat(p).exists();
            }

            Command verify = run("systemd-analyze", "verify", UNIT.toString());
            assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
            Command security = run("systemd-analyze", "security", "--offline=yes", UNIT.toString());
            Matcher m = Pattern.compile("Overall exposure level for mesh-egress.service: ([0-9.]+)").matcher(security.out());
            assertThat(m.find()).as(security.out() + security.err()).isTrue();
            System.out.println("systemd-analyze security: exposure " + m.group(1));
            assertThat(Double.parseDouble(m.group(1))).isLessThanOrEqualTo(2.5);

            Command check = run("/usr/bin/mesh-egress", "check", "-c", CONF.toString());
            assertThat(check.exitCode()).as(check.err()).isZero();
            assertThat(check.out()).startsWith(CONF + ": ok");

            // A changed conffile: served by the unit's command line, and kept by a reinstall.
            String changed = """
                    # changed by the operator
                    http: {listen: "127.0.0.175:8080"}
                    sni: null
                    admin: {listen: "127.0.0.175:9901"}
                    resolver: {hosts: {www.qq.com: 127.0.0.176}}
                    policy: {denyNetworks: []}
                    mesh:
                      destinations: [{hosts: ["*.qq.com"], http: [8081]}]
                    """;
            Files.writeString(CONF, changed);
            serveOneRequestAsTheServiceUser();
            install(deb);
            assertThat(Files.readString(CONF)).isEqualTo(changed);
        } finally {
            Command purge = run("dpkg", "--purge", "mesh-egress");
            assertThat(purge.exitCode()).as(purge.out() + purge.err()).isZero();
        }
        for (Path p : INSTALLED) {
            assertThat(p).doesNotExist();
        }
        assertThat(CACHE).doesNotExist();
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/mesh-egress.service")).doesNotExist();
        assertThat(run("getent", "passwd", "mesh-egress").exitCode()).isNotZero();
        assertThat(run("getent", "group", "mesh-egress").exitCode()).isNotZero();
        assertThat(run("dpkg-query", "-W", "mesh-egress").exitCode()).as("dpkg forgot the package").isNotZero();
        try (DirectoryStream<Path> left = Files.newDirectoryStream(Path.of("/var/lib/systemd"), "deb-systemd-*")) {
            for (Path dir : left) {
                assertThat(run("find", dir.toString(), "-name", "mesh-egress*").out()).as(dir.toString()).isEmpty();
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // no deb-systemd-helper state on this machine at all
        }
    }

    /** ExecStart of the unit, as its User=, with the CacheDirectory= systemd would make. */
    private static void serveOneRequestAsTheServiceUser() throws Exception {
        run("install", "-d", "-o", "mesh-egress", "-g", "mesh-egress", "-m", "0700", CACHE.toString());
        String execStart = unitValue("ExecStart");
        String cds = unitValue("Environment").replace("MESH_EGRESS_CDS=", "");
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", "mesh-egress", "--", "env",
                "MESH_EGRESS_CDS=" + cds));
        cmd.addAll(List.of(execStart.split(" ")));
        try (HttpOrigin origin = new HttpOrigin("127.0.0.176", 8081)) {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.PIPE).start();
            StringBuilder log = new StringBuilder();
            Thread pump = new Thread(() -> {
                try {
                    log.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (java.io.IOException e) {
                    // gone
                }
            });
            pump.start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> run("curl", "-s", "-o", "/dev/null",
                        "-w", "%{http_code}", "http://127.0.0.175:9901/readyz").out().equals("200"));
                Command c = run("curl", "-s", "-m", "10", "-x", "http://127.0.0.175:8080", "http://www.qq.com:8081/hello");
                assertThat(c.exitCode()).as(c.err()).isZero();
                assertThat(run("ps", "-o", "user=", "-p", Long.toString(p.pid())).out().strip())
                        .isIn("mesh-egress", "root"); // runuser itself is root; its child is the service user
                assertThat(run("pgrep", "-u", "mesh-egress", "-f", "mesh-egress.jar").exitCode()).isZero();
            } finally {
                run("pkill", "-TERM", "-u", "mesh-egress", "-f", "mesh-egress.jar");
                assertThat(p.waitFor(45, TimeUnit.SECONDS)).isTrue();
                pump.join(5000);
            }
            assertThat(p.exitValue()).as(log.toString()).isZero();
            assertThat(log.toString()).contains("\"host\":\"www.qq.com\"").contains("\"status\":200");
            assertThat(CACHE.resolve("mesh-egress.jsa")).as("the class-data archive, written by the service user")
                    .exists();
        }
    }

    private static String unitValue(String key) throws Exception {
        return Files.readAllLines(UNIT).stream().filter(l -> l.startsWith(key + "=")).findFirst()
                .map(l -> l.substring(key.length() + 1)).orElseThrow(() -> new AssertionError(key + " not in the unit"));
    }

    private static void install(Path deb) throws Exception {
        Command i = run("dpkg", "-i", deb.toString());
        if (i.exitCode() != 0) {
            // Its dependencies (a Java runtime, adduser) from Debian, then the package again.
            Command fix = run("apt-get", "install", "-f", "-y", "-q");
            assertThat(fix.exitCode()).as(fix.out() + fix.err()).isZero();
            i = run("dpkg", "-i", deb.toString());
        }
        assertThat(i.exitCode()).as(i.out() + i.err()).isZero();
    }

    private static Path builtPackage() throws Exception {
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("target"), "mesh-egress_*_all.deb")) {
            for (Path p : d) {
                return p.toAbsolutePath();
            }
        }
        throw new AssertionError("no target/mesh-egress_*_all.deb: the package phase builds it where dpkg-deb exists");
    }

    private static Command run(String... cmd) throws Exception {
        return Command.run(List.of(cmd));
    }
}
