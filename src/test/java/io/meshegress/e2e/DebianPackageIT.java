package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.HostState;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.NotifySocket;
import io.meshegress.testing.ThrowawayRoot;
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
 * The Debian package as an operator meets it, installed for real by dpkg, but inside a throwaway root (an overlay
 * over this machine's /etc, /var and /usr in a private mount namespace): lintian finds no error; dpkg installs it
 * and creates the system user; systemd-analyze verifies the unit and rates its exposure at most 2.5; the installed
 * command checks the installed file; the unit's own command line, run as the system user as systemd would run it,
 * reports ready, proxies, rotates its log with the packaged logrotate snippet, refuses a reload of a rejected
 * file and stops cleanly on SIGTERM; root's commands never map the archive the service account wrote; a reinstall keeps a
 * changed conffile; a purge leaves nothing behind. Afterwards this machine's package database, accounts and every
 * path the package owns are exactly as before, byte for byte.
 */
class DebianPackageIT {
    static final String UNIT = "/lib/systemd/system/mesh-egress.service";
    static final String CONF = "/etc/mesh-egress/egress.yaml";
    static final String CACHE = "/var/cache/mesh-egress";
    static final String ARCHIVE = CACHE + "/mesh-egress.jsa";
    static final String LOGS = "/var/log/mesh-egress";
    static final String ACCESS_LOG = LOGS + "/access.log";
    static final List<String> INSTALLED = List.of("/usr/bin/mesh-egress", "/usr/share/mesh-egress", "/etc/mesh-egress",
            "/etc/logrotate.d/mesh-egress", "/usr/share/bash-completion/completions/mesh-egress",
            "/usr/share/zsh/vendor-completions/_mesh-egress", UNIT, "/usr/share/doc/mesh-egress", "/usr/share/man/man1/mesh-egress.1.gz");

    @Test
    void installsChecksServesAndPurgesCleanlyInAThrowawayRoot() throws Exception {
        assertThat(run("id", "-u").out().strip()).as("dpkg and mount need root (CI is root)").isEqualTo("0");
        Path deb = builtPackage();
        Command lintian = run("lintian", "--fail-on", "error", deb.toString());
        assertThat(lintian.exitCode()).as(lintian.out() + lintian.err()).isZero();
        assertThat(lintian.out()).doesNotContain("E: ");

        HostState before = HostState.now(INSTALLED);
        try (ThrowawayRoot root = ThrowawayRoot.open(Path.of("target", "throwaway-root"), deb.getParent())) {
            try {
                install(root, deb);
                assertThat(root.run("getent", "passwd", "mesh-egress").out()).contains("/nonexistent")
                        .contains("/usr/sbin/nologin");
                for (String p : INSTALLED) {
                    assertThat(root.run("test", "-e", p).exitCode()).as(p + " installed").isZero();
                }
                assertThat(root.written().resolve("usr/share/mesh-egress/mesh-egress.jar")).as("dpkg wrote into the "
                        + "throwaway layer").isRegularFile();

                Command verify = root.run("systemd-analyze", "verify", UNIT);
                assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
                Command security = root.run("systemd-analyze", "security", "--offline=yes", UNIT);
                Matcher m = Pattern.compile("Overall exposure level for mesh-egress.service: ([0-9.]+)")
                        .matcher(security.out());
                assertThat(m.find()).as(security.out() + security.err()).isTrue();
                System.out.println("systemd-analyze security: exposure " + m.group(1));
                assertThat(Double.parseDouble(m.group(1))).isLessThanOrEqualTo(2.5);

                Command check = root.run("/usr/bin/mesh-egress", "check", "-c", CONF);
                assertThat(check.exitCode()).as(check.err()).isZero();
                assertThat(check.out()).startsWith(CONF + ": ok");

                // A changed conffile: served by the unit's command line, and kept by a reinstall.
                String changed = """
                        # changed by the operator
                        http: {listen: "127.0.0.175:8080"}
                        sni: null
                        admin: {listen: "127.0.0.175:9901"}
                        resolver: {hosts: {first.qq.com: 127.0.0.176, second.qq.com: 127.0.0.176}}
                        policy: {denyNetworks: []}
                        accessLog: {destination: /var/log/mesh-egress/access.log}
                        mesh:
                          destinations: [{hosts: ["*.qq.com"], http: [8081]}]
                        """;
                write(root, CONF, changed);
                serveAsTheUnitDoes(root);
                rootNeverMapsTheServiceAccountsArchive(root);
                install(root, deb);
                assertThat(root.run("cat", CONF).out()).isEqualTo(changed);
            } finally {
                Command purge = root.run("dpkg", "--purge", "mesh-egress");
                assertThat(purge.exitCode()).as(purge.out() + purge.err()).isZero();
            }
            for (String p : INSTALLED) {
                assertThat(root.run("test", "-e", p).exitCode()).as(p + " purged").isNotZero();
            }
            assertThat(root.run("test", "-e", CACHE).exitCode()).as(CACHE + " purged").isNotZero();
            assertThat(root.run("test", "-e", LOGS).exitCode()).as(LOGS + " purged").isNotZero();
            assertThat(root.run("test", "-e", "/etc/systemd/system/multi-user.target.wants/mesh-egress.service")
                    .exitCode()).isNotZero();
            assertThat(root.run("getent", "passwd", "mesh-egress").exitCode()).isNotZero();
            assertThat(root.run("getent", "group", "mesh-egress").exitCode()).isNotZero();
            assertThat(root.run("dpkg-query", "-W", "mesh-egress").exitCode()).as("dpkg forgot the package").isNotZero();
            assertThat(root.run("sh", "-c", "find /var/lib/systemd -path '*deb-systemd-*' -name 'mesh-egress*'").out())
                    .isEmpty();
        }
        assertThat(HostState.now(INSTALLED)).as("this machine, after the package test").isEqualTo(before);
    }

    /**
     * The unit as systemd would run it (systemd itself cannot run in this root): ExecStart as its User=, with the
     * CacheDirectory= and LogsDirectory= systemd makes and a notification socket bound here; `systemctl start`
     * returns on READY=1. Then: a request, logged to /var/log/mesh-egress; the packaged logrotate snippet, run by
     * logrotate for real, rotates the file with `create` and its postrotate's signal makes the service continue
     * in the new file; the unit's ExecReload lines, run in order as systemd runs them, fail for a rejected file
     * before any signal reaches the service; SIGTERM drains (STOPPING=1) and exits 0.
     */
    private static void serveAsTheUnitDoes(ThrowawayRoot root) throws Exception {
        for (String dir : List.of(CACHE, LOGS)) {
            assertThat(root.run("install", "-d", "-o", "mesh-egress", "-g", "mesh-egress", "-m", "0755", dir)
                    .exitCode()).isZero();
        }
        assertThat(unitValues(root, "Type")).containsExactly("notify");
        assertThat(unitValues(root, "LogsDirectory")).containsExactly("mesh-egress");
        String execStart = unitValues(root, "ExecStart").get(0);
        String cds = unitValues(root, "Environment").get(0).replace("MESH_EGRESS_CDS=", "");
        String notifyName = "@mesh-egress-package-test-" + ProcessHandle.current().pid();
        // setpriv execs (as systemd does for User=), so the process started is the JVM itself: the main PID.
        List<String> cmd = new ArrayList<>(asServiceUser("MESH_EGRESS_CDS=" + cds, "NOTIFY_SOCKET=" + notifyName));
        cmd.addAll(List.of(execStart.split(" ")));
        try (HttpOrigin origin = new HttpOrigin("127.0.0.176", 8081); NotifySocket notify = NotifySocket.bind(notifyName)) {
            Process p = root.start(cmd);
            StringBuffer log = new StringBuffer();
            Thread pump = new Thread(() -> {
                try (java.io.BufferedReader r = p.inputReader(StandardCharsets.UTF_8)) {
                    for (String l; (l = r.readLine()) != null; ) {
                        log.append(l).append('\n');
                    }
                } catch (java.io.IOException e) {
                    // gone
                }
            });
            pump.start();
            String mainPid = Long.toString(p.pid());
            try {
                notify.await(1, m -> m.startsWith("READY=1"));
                assertThat(run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.175:9901/readyz")
                        .out()).as("ready means listening").isEqualTo("200");
                assertThat(root.run("ps", "-o", "user=", "-p", mainPid).out().strip()).isEqualTo("mesh-egress");
                request("first");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> root.run("cat", ACCESS_LOG).out()
                        .contains("first.qq.com"));

                // Rotation, by the packaged snippet. systemctl cannot reach a systemd here: a stand-in accepts
                // exactly the command the snippet sends and delivers its signal to the main PID.
                write(root, "/usr/local/sbin/systemctl", """
                        #!/bin/sh
                        [ "$*" = "kill --kill-whom=main --signal=USR1 mesh-egress.service" ] || exit 1
                        exec kill -USR1 %s
                        """.formatted(mainPid));
                assertThat(root.run("chmod", "0755", "/usr/local/sbin/systemctl").exitCode()).isZero();
                Command rotate = root.run("env", "PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "logrotate",
                        "-f", "-v", "-s", "/tmp/logrotate.state", "/etc/logrotate.d/mesh-egress");
                assertThat(rotate.exitCode()).as(rotate.out() + rotate.err()).isZero();
                assertThat(root.run("stat", "-c", "%U:%G %a", ACCESS_LOG).out().strip()).isEqualTo("mesh-egress:adm 640");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> log.toString().contains("access log reopened"));
                request("second");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> root.run("cat", ACCESS_LOG).out()
                        .contains("second.qq.com"));
                assertThat(root.run("cat", ACCESS_LOG + ".1").out()).contains("first.qq.com").doesNotContain("second");

                // A rejected file: the first ExecReload line fails, so systemd never runs the second (the signal).
                String good = root.run("cat", CONF).out();
                write(root, CONF, good + "policy: [\n");
                List<String> reload = unitValues(root, "ExecReload");
                assertThat(reload).hasSize(2);
                assertThat(reload.get(1)).isEqualTo("/bin/kill -HUP $MAINPID");
                List<String> first = new ArrayList<>(asServiceUser());
                first.addAll(List.of(reload.get(0).split(" ")));
                Command rejected = Command.run(root.inside(first));
                assertThat(rejected.exitCode()).as("systemctl reload fails").isNotZero();
                assertThat(rejected.err()).contains(CONF + ":");
                assertThat(notify.messages()).noneMatch(m -> m.startsWith("RELOADING=1"));
                write(root, CONF, good);
            } finally {
                p.toHandle().destroy();
                assertThat(p.waitFor(45, TimeUnit.SECONDS)).isTrue();
                pump.join(5000);
            }
            assertThat(p.exitValue()).as(log.toString()).isZero();
            assertThat(notify.messages()).last().asString().startsWith("STOPPING=1");
            assertThat(root.run("test", "-s", ARCHIVE).exitCode()).as("the class-data archive, written by the service "
                    + "user").isZero();
        }
    }

    private static void request(String name) throws Exception {
        Command c = run("curl", "-s", "-m", "10", "-x", "http://127.0.0.175:8080", "http://" + name + ".qq.com:8081/hello");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("host=" + name + ".qq.com");
    }

    private static List<String> asServiceUser(String... env) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=mesh-egress", "--regid=mesh-egress",
                "--init-groups", "--", "env"));
        cmd.addAll(List.of(env));
        return cmd;
    }

    /**
     * The archive in the cache directory is the service account's to write; a JVM maps what it is given without
     * question. The java command handed to the launcher records the options it was started with.
     */
    private static void rootNeverMapsTheServiceAccountsArchive(ThrowawayRoot root) throws Exception {
        String recorder = "/usr/local/bin/record-java";
        write(root, recorder, """
                #!/bin/sh
                printf '%s\\n' "$@" > "$RECORD"
                exec java "$@"
                """);
        assertThat(root.run("chmod", "0755", recorder).exitCode()).isZero();
        String[] check = {"/usr/bin/mesh-egress", "check", "-c", CONF};

        // The service account maps its own archive: the recorder sees it (so the next assertion can fail).
        Command asService = root.run(concat(new String[] {"setpriv", "--reuid=mesh-egress", "--regid=mesh-egress",
                "--init-groups", "--", "env", "JAVA=" + recorder, "RECORD=/tmp/service-java", "MESH_EGRESS_CDS=" + ARCHIVE},
                check));
        assertThat(asService.exitCode()).as(asService.err()).isZero();
        assertThat(root.run("cat", "/tmp/service-java").out()).contains("-XX:SharedArchiveFile=" + ARCHIVE);

        // Root, with the same archive (owned and writable by the service account): not given to the JVM.
        Command asRoot = root.run(concat(new String[] {"env", "JAVA=" + recorder, "RECORD=/tmp/root-java"}, check));
        assertThat(asRoot.exitCode()).as(asRoot.err()).isZero();
        assertThat(root.run("cat", "/tmp/root-java").out()).contains("-jar").doesNotContain(ARCHIVE)
                .doesNotContain("SharedArchiveFile").doesNotContain("ArchiveClassesAtExit");

        // Nor when the file is root's but the directory is the service account's (it could swap the file).
        assertThat(root.run("chown", "root:root", ARCHIVE).exitCode()).isZero();
        Command rootFile = root.run(concat(new String[] {"env", "JAVA=" + recorder, "RECORD=/tmp/root-java2"}, check));
        assertThat(rootFile.exitCode()).as(rootFile.err()).isZero();
        assertThat(root.run("cat", "/tmp/root-java2").out()).contains("-jar").doesNotContain(ARCHIVE);
    }

    private static String[] concat(String[] a, String[] b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    private static void write(ThrowawayRoot root, String path, String content) throws Exception {
        Command w = Command.run(root.inside(List.of("sh", "-c", "cat > \"$0\"", path)), content);
        assertThat(w.exitCode()).as(w.err()).isZero();
    }

    private static List<String> unitValues(ThrowawayRoot root, String key) throws Exception {
        List<String> values = root.run("cat", UNIT).out().lines().filter(l -> l.startsWith(key + "="))
                .map(l -> l.substring(key.length() + 1)).toList();
        assertThat(values).as(key + " in the unit").isNotEmpty();
        return values;
    }

    private static void install(ThrowawayRoot root, Path deb) throws Exception {
        Command i = root.run("dpkg", "-i", deb.toString());
        assertThat(i.exitCode()).as("%s%s\n(its dependencies, a Java runtime and adduser, are installed by .ci/run)",
                i.out(), i.err()).isZero();
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
