package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.JarProcess;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log rotation as logrotate does it (rename, then SIGUSR1, nginx's convention): requests keep flowing throughout;
 * lines before the signal stay in the renamed file, lines after it go to a new file at the configured path, and
 * every request (each to a host name of its own) has exactly one line across the two.
 */
class AccessLogReopenIT {
    static final int REQUESTS = 300;

    @Test
    void sigusr1ReopensTheFileAndLosesNoLine(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.log");
        Path rotated = dir.resolve("access.log.1");
        Path file = Files.writeString(dir.resolve("egress.yaml"), """
                http: {listen: "127.0.0.61:8080"}
                sni: null
                admin: null
                resolver: {hosts: {%s}}
                policy: {allow: ["*.qq.test"], denyNetworks: []}
                accessLog: {destination: "%s", format: json}
                """.formatted(String.join(", ", java.util.stream.IntStream.range(0, REQUESTS)
                        .mapToObj(i -> "n" + i + ".qq.test: 127.0.0.62").toList()), log));
        HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("127.0.0.61", 8080)))
                .connectTimeout(Duration.ofSeconds(5)).build();
        try (HttpOrigin origin = new HttpOrigin("127.0.0.62", 8081);
                JarProcess proxy = JarProcess.start("run", "-c", file.toString())) {
            proxy.awaitErr(l -> l.contains("listening: http 127.0.0.61:8080"));
            for (int i = 0; i < REQUESTS; i++) {
                if (i == REQUESTS / 3) {
                    Files.move(log, rotated);
                } else if (i == REQUESTS / 2) {
                    Command.run(List.of("kill", "-USR1", Long.toString(proxy.process().pid())));
                }
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://n" + i + ".qq.test:8081/hello"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            }
            proxy.awaitErr(l -> l.contains("access log reopened"));
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> Files.exists(log) && lines(rotated) + lines(log) == REQUESTS);
            assertThat(proxy.stop()).isZero();
        }
        Set<Integer> seen = new HashSet<>();
        seen.addAll(requestNumbers(rotated));
        seen.addAll(requestNumbers(log));
        assertThat(seen).hasSize(REQUESTS);
        // Lines written after the rename and before the signal still go to the renamed file (the process holds it
        // open); after the signal, to the new one. A request answered just before the signal may be logged on either
        // side of it (its line is queued when its record closes and written in the next 10 ms batch), so the
        // boundary is checked a few requests away from the signal, and no line is lost or doubled either way.
        assertThat(requestNumbers(rotated)).contains(0, REQUESTS / 3, REQUESTS / 2 - 10);
        assertThat(requestNumbers(log)).isNotEmpty().allMatch(n -> n > REQUESTS / 3).contains(REQUESTS - 1);
        assertThat(lines(rotated) + lines(log)).isEqualTo(REQUESTS);
    }

    private static long lines(Path p) throws Exception {
        return Files.exists(p) ? Files.readAllLines(p).size() : 0;
    }

    private static List<Integer> requestNumbers(Path p) throws Exception {
        Pattern n = Pattern.compile("\"host\":\"n([0-9]+)\\.qq\\.test\"");
        return Files.readAllLines(p).stream().map(n::matcher).filter(Matcher::find)
                .map(m -> Integer.parseInt(m.group(1))).toList();
    }
}
