package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.Sockets;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's file without {@code mesh.destinations} has none: the write-up's {@code *.qq.com} example lives only
 * in the embedded default, so a file that allows one API does not also open *.qq.com on 80 and 443.
 */
class FileMeansWhatItSaysTest {
    static final String FILE = """
            http:
              listen: "127.0.0.78:8080"
            sni: null
            admin: null
            policy:
              allow: [api.example.com]
            """;

    @Test
    void aFileThatAllowsOneHostRefusesTheWriteupsExample(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), FILE);
        CliRun check = CliRun.of("check", "-c", file.toString(), "www.qq.com");
        assertThat(check.status()).as(check.err()).isZero();
        assertThat(check.out()).contains("www.qq.com:443 via http 127.0.0.78:8080 CONNECT: refused by policy.allow "
                + "(www.qq.com matches no allow pattern or mesh destination)");
        try (ProxyUnderTest proxy = new ProxyUnderTest(FILE)) {
            String reply = Sockets.exchange(new InetSocketAddress("127.0.0.78", 8080),
                    "CONNECT www.qq.com:443 HTTP/1.1\r\nHost: www.qq.com:443\r\n\r\n");
            assertThat(reply).startsWith("HTTP/1.1 403").contains("refused by policy.allow");
        }
        // The embedded default keeps the example.
        assertThat(CliRun.of("check", "www.qq.com").out())
                .contains("www.qq.com:443 via sni 0.0.0.0:8443: allowed by mesh.destinations[0] \"*.qq.com\"");
    }
}
