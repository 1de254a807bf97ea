package io.meshegress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every class of configuration error through the real command line: exit status 2 and exactly one line
 * naming file, line, column and key.
 */
class CheckCommandTest {
    @TempDir
    Path dir;

    CliRun run(String... args) {
        return CliRun.of(args);
    }

    CliRun check(String yaml) throws IOException {
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, yaml);
        return run("check", "-c", file.toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown key            | policy:\\n  alow: []                                  | :2:3: policy.alow: unknown key (did you mean "allow"?)
            unknown top-level key  | listeners: {}                                        | :1:1: listeners: unknown key (expected one of: http, sni, resolver, timeouts, policy, limits, admin, accessLog, mesh, transport, identity; every key is described in docs/configuration.md)
            bad duration           | timeouts:\\n  connect: 10 seconds                     | :2:12: timeouts.connect: "10 seconds" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)
            zero duration          | timeouts:\\n  idle: 0s                                | :2:9: timeouts.idle: must be longer than 0
            bad CIDR               | policy:\\n  denyNetworks: [10.0.0.0/8, 10.0.0.0/33]  | :2:30: policy.denyNetworks[1]: "10.0.0.0/33" is not a CIDR (the prefix length must be 0 to 32)
            CIDR host bits         | policy:\\n  clients: [10.1.2.3/8]                     | :2:13: policy.clients[0]: "10.1.2.3/8" is not a CIDR (host bits are set; did you mean 10.0.0.0/8?)
            bad port               | http:\\n  connectPorts: [443, 70000]                  | :2:23: http.connectPorts[1]: "70000" is not a port (1-65535)
            bad upstream port      | sni:\\n  - listen: 0.0.0.0:8443\\n    upstreamPort: x  | :3:19: sni[0].upstreamPort: "x" is not a port (1-65535)
            bad host pattern       | policy:\\n  allow: [a.com, "*.*.qq.com"]              | :2:18: policy.allow[1]: "*.*.qq.com" is not a host pattern (a wildcard may only be the first label): "*.qq.com" already matches any depth
            partial wildcard       | policy:\\n  deny: ["a*.qq.com"]                       | :2:10: policy.deny[0]: "a*.qq.com" is not a host pattern (a wildcard may only be the first label, as in "*.example.com")
            bad destination host   | mesh:\\n  destinations:\\n    - hosts: ["**.qq.com"] | :3:15: mesh.destinations[0].hosts[0]: "**.qq.com" is not a host pattern (a wildcard may only be the first label): "*.qq.com" already matches any depth
            duplicate listen       | sni:\\n  - listen: 0.0.0.0:8443\\n  - listen: 127.0.0.1:8443 | :3:13: sni[1].listen: 127.0.0.1:8443 is already used by sni[0].listen (0.0.0.0:8443)
            listen without port    | admin:\\n  listen: 127.0.0.1                          | :2:11: admin.listen: "127.0.0.1" is not IP:PORT (e.g. "0.0.0.0:8080" or "[::]:8080")
            listen not an IP       | http:\\n  listen: localhost:8080                      | :2:11: http.listen: "localhost:8080": "localhost" is not an IP address
            bad DNS server         | resolver:\\n  servers: [dns.example:53]              | :2:13: resolver.servers[0]: "dns.example:53": "dns.example" is not an IP address
            bad static host IP     | resolver:\\n  hosts:\\n    a.qq.test: nowhere        | :3:16: resolver.hosts.a.qq.test: "nowhere" is not an IP address
            wrong type             | policy:\\n  allow: api.github.com                     | :2:10: policy.allow: expected a list, got a single value
            mapping expected       | timeouts: 10s                                        | :1:11: timeouts: expected a mapping (key: value), got a single value
            bad boolean            | resolver:\\n  ipv6: yes please                        | :2:9: resolver.ipv6: "yes please" is not true or false
            duplicate key          | policy:\\n  allow: []\\n  allow: [x.com]            | :3:3: policy.allow: duplicate key (first at line 2)
            bad namespace          | mesh:\\n  namespace: Default_NS                       | :2:14: mesh.namespace: "Default_NS" is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)
            YAML syntax            | policy:\\n  allow: [a.com\\n                          | :3:1: invalid YAML: expected ',' or ']', but got <stream end> while parsing a flow sequence
            """)
    void eachErrorIsOneLineWithFileLineColumnAndKey(String name, String yaml, String expected) throws IOException {
        CliRun r = check(yaml.replace("\\n", "\n"));
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err().strip()).startsWith(dir.resolve("egress.yaml") + expected);
    }

    @Test
    void missingFileIsAConfigurationError() {
        CliRun r = run("check", "-c", dir.resolve("nope.yaml").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo(dir.resolve("nope.yaml") + ": no such file");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(run("frobnicate").status()).isEqualTo(2);
        assertThat(run("check", "--no-such-flag").status()).isEqualTo(2);
        assertThat(run().status()).isEqualTo(2);
    }

    @Test
    void versionAndHelpExitWithZero() {
        CliRun version = run("--version");
        assertThat(version.status()).isZero();
        assertThat(version.out()).startsWith("mesh-egress ");
        CliRun help = run("--help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("run", "check");
    }

    @Test
    void embeddedDefaultsValidateAndExplainTheDefaultPolicy() {
        CliRun r = run("check", "www.qq.com", "api.github.com", "a.b.qq.com:22");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("<embedded default>: ok",
                "sni 0.0.0.0:8443 -> upstream port 443",
                "allow: *.qq.com (ports [80, 443])",
                "www.qq.com:443 via sni 0.0.0.0:8443: allowed by mesh.destinations[0] \"*.qq.com\"",
                "api.github.com:443 via sni 0.0.0.0:8443: refused by policy.allow (api.github.com matches no allow pattern or mesh destination)",
                "a.b.qq.com:22 via sni 0.0.0.0:8443: not reachable (this listener always connects to port 443)",
                // One order for the proxy and check: the name (with the destination's ports) before connectPorts.
                "a.b.qq.com:22 via http 0.0.0.0:8080 CONNECT: refused by mesh.destinations[0] \"*.qq.com\" "
                        + "(port 22 is not one of its ports [80, 443])",
                "api.github.com:443 via http 0.0.0.0:8080 CONNECT: refused by policy.allow",
                "www.qq.com:80 via http 0.0.0.0:8080 plain HTTP: allowed by mesh.destinations[0] \"*.qq.com\"",
                "limits: 16384 connections, 1024 per client");
    }

    @Test
    void resolveShowsWhichAddressesPolicyLetsThrough() throws Exception {
        try (io.meshegress.testing.TestDnsServer dns = io.meshegress.testing.TestDnsServer.start("127.0.0.1")
                .answer("mixed.qq.test", "127.0.0.9,127.0.0.10")) {
            CliRun r = check("""
                    resolver:
                      servers: ["%s"]
                      hosts: {fixed.qq.test: 169.254.169.254}
                    policy:
                      allow: ["*.qq.test", "*.nx.test"]
                      denyNetworks: [127.0.0.9/32, 169.254.0.0/16]
                    http:
                      listen: "127.0.0.1:8080"
                    """.formatted(dns.configAddress()));
            Path file = dir.resolve("egress.yaml");
            CliRun resolved = run("check", "-c", file.toString(), "--resolve", "mixed.qq.test", "fixed.qq.test:443",
                    "nope.nx.test");
            assertThat(resolved.status()).as(resolved.err()).isZero();
            assertThat(resolved.out()).contains(
                    "mixed.qq.test resolves to 127.0.0.9 (refused by policy.denyNetworks[0] \"127.0.0.9/32\"), 127.0.0.10 (allowed)",
                    "fixed.qq.test resolves to 169.254.169.254 (refused by policy.denyNetworks[1] \"169.254.0.0/16\")",
                    "nope.nx.test resolves to nothing: nope.nx.test could not be resolved");
            assertThat(r.status()).isZero();
            // Without --resolve no name is looked up.
            long asked = dns.questionCount();
            run("check", "-c", file.toString(), "mixed.qq.test");
            assertThat(dns.questionCount()).isEqualTo(asked);
        }
    }

    @Test
    void aValidFileIsOk() throws IOException {
        CliRun r = check("""
                http: null
                sni:
                  - listen: "127.0.0.2:8443"
                    upstreamPort: 10443
                  - listen: "127.0.0.2:9443"
                policy:
                  allow: ["api.github.com"]
                  deny: ["*.evil.qq.com"]
                mesh:
                  destinations: []
                """);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("sni 127.0.0.2:9443 -> upstream port 9443 (its own port)",
                "allow: api.github.com (any port)", "deny: [*.evil.qq.com]");
    }

    @Test
    void theHttpListenersHeaderSettingsAreNamedOnlyWhenSet() throws IOException {
        String base = """
                http:
                  listen: "127.0.0.2:8080"
                %s
                sni: null
                policy:
                  allow: ["api.github.com"]
                mesh:
                  destinations: []
                """;
        CliRun plain = check(base.formatted(""));
        assertThat(plain.status()).as(plain.err()).isZero();
        assertThat(plain.out()).contains("http 127.0.0.2:8080 (CONNECT to ports [443, 563])\n");
        CliRun set = check(base.formatted("  forwardTraceHeaders: true\n  stripHeaders: [X-Tenant]"));
        assertThat(set.status()).as(set.err()).isZero();
        assertThat(set.out()).contains("http 127.0.0.2:8080 (CONNECT to ports [443, 563]), trace headers forwarded, "
                + "also strips [x-tenant]\n");
    }
}
