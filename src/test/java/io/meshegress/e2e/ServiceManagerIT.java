package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.JarProcess;
import io.meshegress.testing.NotifySocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar under systemd's Type=notify, against a notification socket the test binds (with python3, as
 * sd_notify(3) describes it): READY=1 only once the listeners accept; RELOADING=1 (with MONOTONIC_USEC, which
 * Type=notify-reload needs) and then READY=1 around every SIGHUP reload, applied or rejected; STOPPING=1 when it
 * drains; nothing at all when a listener cannot be bound, so `systemctl start` fails.
 */
class ServiceManagerIT {
    @TempDir
    Path dir;

    static String config(String http) {
        return """
                http: {listen: "%s"}
                sni: null
                admin: {listen: "127.0.0.57:9901"}
                policy: {allow: ["*.qq.test"]}
                """.formatted(http);
    }

    @Test
    void readyOnceListeningReloadingAroundEachReloadStoppingOnDrain() throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), config("127.0.0.57:8080"));
        try (NotifySocket notify = NotifySocket.bind(dir.resolve("notify").toString());
                JarProcess proxy = JarProcess.startWithEnvironment(Map.of("NOTIFY_SOCKET", notify.address()),
                        "run", "-c", file.toString())) {
            notify.await(1, m -> m.startsWith("READY=1"));
            // Ready means bound: both listeners accept at once.
            try (Socket http = new Socket("127.0.0.57", 8080); Socket admin = new Socket("127.0.0.57", 9901)) {
                assertThat(http.isConnected() && admin.isConnected()).isTrue();
            }
            assertThat(notify.messages()).containsExactly("READY=1|STATUS=serving");
            assertThat(proxy.err()).noneMatch(l -> l.contains("SIGHUP is ignored"));

            // A rejected file: the reload is announced and ends, and the proxy keeps serving.
            Files.writeString(file, "http: {listen: [\n");
            Command.run(List.of("kill", "-HUP", Long.toString(proxy.process().pid())));
            notify.await(2, m -> m.startsWith("READY=1"));
            proxy.awaitErr(l -> l.contains("reload rejected"));
            assertThat(notify.messages()).hasSize(3);
            assertThat(notify.messages().get(1)).matches("RELOADING=1\\|MONOTONIC_USEC=[0-9]+");
            // CLOCK_MONOTONIC, as /proc/uptime counts it: the stamp is within a minute of now.
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            long usec = Long.parseLong(notify.messages().get(1).replaceAll(".*=", ""));
            assertThat(usec / 1e6).isBetween(uptime - 60, uptime + 1);
            try (Socket http = new Socket("127.0.0.57", 8080)) {
                assertThat(http.isConnected()).isTrue();
            }

            proxy.sigterm();
            notify.await(1, m -> m.startsWith("STOPPING=1"));
            assertThat(proxy.stop()).isZero();
            assertThat(notify.messages()).last().isEqualTo("STOPPING=1|STATUS=draining");
        }
    }

    @Test
    void anAbstractSocketNameWorksToo() throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), config("127.0.0.58:8080"));
        String name = "@mesh-egress-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifySocket notify = NotifySocket.bind(name);
                JarProcess proxy = JarProcess.startWithEnvironment(Map.of("NOTIFY_SOCKET", name),
                        "run", "-c", file.toString())) {
            notify.await(1, m -> m.startsWith("READY=1"));
            assertThat(proxy.stop()).isZero();
        }
    }

    @Test
    void startedWithSighupIgnoredItSaysSoAndStillReloadsWhenTheFileChanges() throws Exception {
        // nohup(1) starts its command with SIGHUP ignored, and a JVM keeps a signal ignored that it inherited so:
        // a SIGHUP reload cannot work, which the log must say rather than let `kill -HUP` do nothing unseen.
        Path file = Files.writeString(dir.resolve("egress.yaml"), config("127.0.0.60:8080"));
        try (JarProcess proxy = JarProcess.startUnder(List.of("nohup"), "run", "-c", file.toString())) {
            proxy.awaitErr(l -> l.contains("SIGHUP is ignored in this process"));
            Files.writeString(file, config("127.0.0.60:8080").replace("*.qq.test", "*.example.test"));
            proxy.awaitErr(l -> l.contains("reloaded " + file));
            assertThat(proxy.stop()).isZero();
        }
    }

    @Test
    void aListenerThatCannotBindNeverReportsReady() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.59", 0));
            Path file = Files.writeString(dir.resolve("egress.yaml"), config("127.0.0.59:" + taken.getLocalPort()));
            try (NotifySocket notify = NotifySocket.bind(dir.resolve("notify").toString());
                    JarProcess proxy = JarProcess.startWithEnvironment(Map.of("NOTIFY_SOCKET", notify.address()),
                            "run", "-c", file.toString())) {
                assertThat(proxy.awaitExit()).isNotZero();
                assertThat(notify.messages()).isEmpty();
            }
        }
    }
}
