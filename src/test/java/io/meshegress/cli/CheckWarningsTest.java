package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} on a valid file says what the file opens that its author may not mean: a {@code *} allow (every
 * host) and, for a file that relied on an empty allow-list meaning every host, that it now allows none and the
 * exact line that keeps the old meaning. Warnings go to stderr; the exit status stays 0.
 */
class CheckWarningsTest {
    @TempDir
    Path dir;

    CliRun check(String yaml, String... destinations) throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), yaml);
        String[] args = new String[3 + destinations.length];
        args[0] = "check";
        args[1] = "-c";
        args[2] = file.toString();
        System.arraycopy(destinations, 0, args, 3, destinations.length);
        return CliRun.of(args);
    }

    String file() {
        return dir.resolve("egress.yaml").toString();
    }

    @Test
    void aFileThatReliedOnTheOldEmptyAllowListIsToldWhatToWrite() throws Exception {
        for (String yaml : new String[] {"http:\n  listen: \"127.0.0.1:8080\"\n",
                "http:\n  listen: \"127.0.0.1:8080\"\npolicy:\n  allow: []\n"}) {
            CliRun r = check(yaml, "www.example.com");
            assertThat(r.status()).as(r.err()).isZero();
            String where = yaml.contains("allow: []") ? file() + ":4:10: warning: policy.allow: "
                    : file() + ": warning: policy: ";
            assertThat(r.err()).as(yaml).contains(where + "no allow-list and no mesh.destinations: no host is allowed. "
                    + "An empty or absent policy.allow used to allow every host; to keep that, write allow: [\"*\"] "
                    + "under policy");
            assertThat(r.out()).contains("  allow: nothing")
                    .contains("www.example.com:443 via http 127.0.0.1:8080 CONNECT: refused by policy.allow (empty, "
                            + "and no mesh.destinations: no host)");
        }
    }

    @Test
    void writingTheLineItSuggestsAllowsEveryHostAndWarnsThatItDoes() throws Exception {
        CliRun r = check("http:\n  listen: \"127.0.0.1:8080\"\npolicy:\n  allow: [\"*\"]\n", "www.example.com");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err().lines()).containsExactly(file() + ":4:11: warning: policy.allow[0]: \"*\" allows every "
                + "host name (only policy.deny and policy.denyNetworks still refuse)");
        assertThat(r.out()).contains("www.example.com:443 via http 127.0.0.1:8080 CONNECT: allowed by "
                + "policy.allow[0] \"*\"");
    }

    @Test
    void aRoleThatAllowsEveryHostIsWarnedAboutToo() throws Exception {
        CliRun r = check("""
                http:
                  listen: "127.0.0.1:8080"
                policy:
                  allow: [api.example.com]
                  roles:
                    - name: ops
                      clients: ["10.9.0.0/16"]
                      allow: [api.example.com, "*"]
                """);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err().lines()).containsExactly(file() + ":8:32: warning: policy.roles[0].allow[1]: \"*\" allows "
                + "every host name for role ops (only policy.deny and policy.denyNetworks still refuse)");
    }

    @Test
    void aFileThatAllowsWhatItNamesHasNoWarning() throws Exception {
        CliRun r = check("http:\n  listen: \"127.0.0.1:8080\"\npolicy:\n  allow: [api.example.com]\n");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
    }

    @Test
    void aFileWithNoListenerIsExitTwoWithItsFirstLine() throws Exception {
        CliRun r = check("# mine\npolicy:\n  allow: [api.example.com]\n");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith(file() + ":2:1: no listener: declare http");
        assertThat(r.out()).isEmpty();
    }
}
