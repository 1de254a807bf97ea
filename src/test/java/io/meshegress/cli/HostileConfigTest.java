package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.Command;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configuration file is input like any other: aliases, anchors, huge or endless files, things that are not
 * files, bytes that are not UTF-8 and empty files each get exit 2 and one short line, fast, through the real
 * command line.
 */
class HostileConfigTest {
    @TempDir
    Path dir;

    private CliRun check(Path file) {
        return CliRun.of("check", "-c", file.toString());
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private Path write(String name, String content) throws IOException {
        return write(name, content.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertOneShortLine(CliRun r, String expected) {
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err().strip()).contains(expected).hasSizeLessThan(600);
    }

    @Test
    void aliasesAreNeverReadAsTheAnchorsName() throws Exception {
        // Before: the host "api" was allowed, read from the alias *api.
        CliRun r = check(write("alias.yaml", "x: &api api.github.com\npolicy:\n  allow: [*api]\n"));
        assertOneShortLine(r, ":3:11: policy.allow[0]: YAML anchors and aliases are not supported (alias \"api\")");
        assertOneShortLine(check(write("alias2.yaml", "policy:\n  allow: &list [a.com]\n  deny: *list\n")),
                "YAML anchors and aliases are not supported");
        assertOneShortLine(check(write("alias3.yaml", "policy:\n  allow: [*api]\n")), "alias");
        assertOneShortLine(check(write("merge.yaml", "http: &h {listen: \"0.0.0.0:8080\"}\nadmin:\n  <<: *h\n")),
                "YAML anchors and aliases are not supported");
    }

    @Test
    void aHugeFileIsRefusedBeforeParsing() throws Exception {
        byte[] twenty = new byte[20 * 1024 * 1024];
        java.util.Arrays.fill(twenty, (byte) 'a');
        System.arraycopy("policy: {allow: [".getBytes(StandardCharsets.US_ASCII), 0, twenty, 0, 17);
        long start = System.nanoTime();
        assertOneShortLine(check(write("huge.yaml", twenty)), "is 20971520 bytes; a configuration is at most 1048576");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aLargeScalarUnderTheCapIsQuickAndQuotedShortly() throws Exception {
        String value = "x".repeat(1_000_000);
        long start = System.nanoTime();
        CliRun r = check(write("scalar.yaml", "policy:\n  allow: [\"" + value + "\"]\n"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertOneShortLine(r, ":2:11: policy.allow[0]: \"xxxxxxxx");
        assertThat(r.err()).contains("(1000000 characters)");
    }

    @Test
    void whatIsNotARegularFileIsRefusedWithoutReadingIt() throws Exception {
        assertOneShortLine(CliRun.of("check", "-c", "/dev/zero"), "/dev/zero: not a regular file");
        assertOneShortLine(CliRun.of("check", "-c", dir.toString()), "not a regular file (a directory)");
        Path fifo = dir.resolve("fifo.yaml");
        assertThat(Command.run(List.of("mkfifo", fifo.toString())).exitCode()).isZero();
        long start = System.nanoTime();
        assertOneShortLine(check(fifo), "not a regular file (a device, FIFO or socket)");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void bytesThatAreNotUtf8AreNamedWithTheirPlace() throws Exception {
        byte[] latin1 = "policy:\n  allow: [caf\u00e9.com]\n".getBytes(StandardCharsets.ISO_8859_1);
        assertOneShortLine(check(write("latin1.yaml", latin1)), "latin1.yaml:2:14: not UTF-8 (byte 0xe9)");
        byte[] overlong = {'a', ':', ' ', (byte) 0xc0, (byte) 0xaf, '\n'};
        assertOneShortLine(check(write("overlong.yaml", overlong)), "overlong.yaml:1:4: not UTF-8 (byte 0xc0)");
        byte[] cut = {'a', ':', ' ', (byte) 0xe2, (byte) 0x82};
        assertOneShortLine(check(write("cut.yaml", cut)), "cut.yaml:1:4: not UTF-8 (byte 0xe2)");
    }

    @Test
    void anEmptyFileIsRefusedAtStartAsOnReload() throws Exception {
        for (String empty : List.of("", "\n\n", "# only a comment\n", "---\n")) {
            assertOneShortLine(check(write("empty.yaml", empty)), "the file is empty");
            assertOneShortLine(CliRun.of("run", "-c", dir.resolve("empty.yaml").toString()), "the file is empty");
        }
    }

    @Test
    void controlCharactersAndHugeKeysStayOnOneShortLine() throws Exception {
        assertOneShortLine(check(write("ctl.yaml", "policy:\n  allow: [\"a\\u0007\\nb.com\"]\n")), "\\x07\\x0a");
        assertOneShortLine(check(write("key.yaml", "policy:\n  " + "k".repeat(100_000) + ": 1\n")), "invalid YAML");
        assertOneShortLine(check(write("key2.yaml", "policy:\n  " + "k".repeat(1000) + ": 1\n")), "unknown key");
    }

    @Test
    void controlCharactersInALabelKeyStayOnOneShortLine() throws Exception {
        // The key is in the message twice, in the key path and in the problem; both are bounded as printed, where
        // each control character is four characters long (\x01).
        String key = "\\x01".repeat(200); // 800 characters of YAML: a flow key may have 1024
        CliRun r = check(write("labels.yaml", """
                identity: {kubernetes: {kubeconfig: /tmp/kc}}
                http: {listen: "127.0.0.1:8080"}
                policy:
                  roles:
                    - {name: r, allow: [a.test], workloads: [{namespace: a, podSelector: {"%s": x}}]}
                """.formatted(key)));
        assertOneShortLine(r, "labels.yaml:5:");
        assertThat(r.err()).contains("is not a label name", "(200 characters)");
    }

    @Test
    void aDurationBeyondWhatTimersCountIsRefused() throws Exception {
        // 999999999h is 114,000 years: the proxy's timers (nanoseconds) would have overflowed at the first
        // connection. The longest is 100 days.
        assertOneShortLine(check(write("long.yaml", "timeouts:\n  idle: 999999999h\n")),
                ":2:9: timeouts.idle: \"999999999h\" is longer than the longest duration, 100d");
    }

    @Test
    void checkPrintsIpv6DestinationsInBrackets() throws Exception {
        CliRun r = CliRun.of("check", "-c", write("v6.yaml", "mesh: {destinations: []}\n"
                + "http: {listen: \"127.0.0.1:8080\"}\nsni: [{listen: \"127.0.0.1:8443\"}]\n").toString(), "[::]:443", "[2001:db8::1]:8443");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("[::]:443 via").contains("[2001:db8::1]:8443 via").doesNotContain(":::443");
    }
}
