package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.policy.HostPattern;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    /** What a file must write at least: a listener (only the embedded default has listeners it does not write). */
    static final String LISTENERS = """
            http:
              listen: "0.0.0.0:8080"
            sni:
              - listen: "0.0.0.0:8443"
                upstreamPort: 443
            """;

    /**
     * The embedded file and the code's defaults must not drift apart: a file that writes only the embedded
     * default's listeners means the same thing.
     */
    @Test
    void embeddedDefaultFileEqualsTheBuiltInDefaults() throws Exception {
        EgressConfig embedded = ConfigLoader.embeddedDefault();
        EgressConfig listenersOnly = ConfigLoader.parse(ConfigLoader.EMBEDDED_DEFAULT, LISTENERS);
        // Every value the embedded file writes is the built-in default, except the example destination: a file
        // without mesh.destinations has none, and only the embedded default carries *.qq.com.
        assertThat(embedded).usingRecursiveComparison().ignoringFields("mesh.destinations", "source")
                .isEqualTo(listenersOnly);
        assertThat(listenersOnly.mesh().destinations()).isEmpty();
        assertThat(embedded.mesh().destinations()).hasSize(1);
    }

    @Test
    void defaultsAreTheContractsValues() throws Exception {
        EgressConfig c = ConfigLoader.parse("x.yaml", "http: {}\n");
        assertThat(c.http().listen()).isEqualTo(new ListenAddress("0.0.0.0", 8080));
        assertThat(c.http().connectPorts()).containsExactly(443, 563);
        // A file gets the listeners it writes: http alone is no SNI listener; the embedded default writes one.
        assertThat(c.sni()).isEmpty();
        assertThat(ConfigLoader.embeddedDefault().sni())
                .containsExactly(new EgressConfig.SniListener(new ListenAddress("0.0.0.0", 8443), 443, false));
        // Deny by default: no allow-list allows nothing; clients are the private and local ranges.
        assertThat(c.policy().allow()).isEmpty();
        assertThat(c.policy().clients()).extracting(Object::toString).containsExactly("10.0.0.0/8", "172.16.0.0/12",
                "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10");
        assertThat(c.resolver().servers()).isEmpty();
        assertThat(c.resolver().ipv6()).isFalse();
        assertThat(c.timeouts()).isEqualTo(new EgressConfig.Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(60)));
        assertThat(c.accessLog()).isEqualTo(new EgressConfig.AccessLogConfig("stdout", "json"));
        assertThat(c.policy().denyNetworks()).hasSize(30);
        assertThat(c.admin().listen()).isEqualTo(new ListenAddress("127.0.0.1", 9901));
        assertThat(c.mesh().namespace()).isEqualTo("default");
        // A file means what it says: without the key, no destinations (the embedded default writes its example).
        assertThat(c.mesh().destinations()).isEmpty();
        assertThat(ConfigLoader.embeddedDefault().mesh().destinations()).containsExactly(new EgressConfig.Destination(
                List.of(HostPattern.parse("*.qq.com")), List.of(80), List.of(443)));
    }

    @Test
    void nullTurnsListenersOff() throws Exception {
        EgressConfig c = ConfigLoader.parse("x.yaml", "http: null\nsni: [{listen: \"127.0.0.1:8443\"}]\n"
                + "admin: null\n");
        assertThat(c.http()).isNull();
        assertThat(c.admin()).isNull();
        EgressConfig d = ConfigLoader.parse("x.yaml", "http: {listen: \"127.0.0.1:8080\"}\nsni: null\n");
        assertThat(d.sni()).isEmpty();
    }

    @Test
    void sniListenerWithoutUpstreamPortUsesItsOwnPort() throws Exception {
        EgressConfig c = ConfigLoader.parse("x.yaml", """
                sni:
                  - listen: "[::]:9443"
                  - listen: 0.0.0.0:8443
                    upstreamPort: 10443
                """);
        assertThat(c.sni()).containsExactly(
                new EgressConfig.SniListener(new ListenAddress("::", 9443), 9443, true),
                new EgressConfig.SniListener(new ListenAddress("0.0.0.0", 8443), 10443, false));
    }

    @Test
    void resolverServersTakePortsAndDefaultTo53() throws Exception {
        EgressConfig c = ConfigLoader.parse("x.yaml", LISTENERS + """
                resolver:
                  servers: ["127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"]
                  ipv6: true
                  hosts: {Static.Example.: 127.0.0.7}
                """);
        assertThat(c.resolver().servers()).extracting(a -> a.getPort()).containsExactly(53, 5353, 53, 53);
        assertThat(c.resolver().ipv6()).isTrue();
        assertThat(c.resolver().hosts()).containsOnlyKeys("static.example");
    }

    @Test
    void durationsAddUp() {
        assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.format(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofMillis(1_304_100_175))).isEqualTo("362h15m0s175ms");
    }

    /** A day is 24 hours, as systemd.time(7) reads "d"; the longest duration stays 100 days, said in days. */
    @Test
    void durationsTakeDaysUpTo100() throws Exception {
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofHours(7 * 24));
        assertThat(Durations.parse("1d12h")).isEqualTo(Duration.ofHours(36));
        assertThat(Durations.parse("100d")).isEqualTo(Duration.ofHours(2400));
        assertThat(Durations.format(Duration.ofHours(48))).isEqualTo("2d");
        EgressConfig c = ConfigLoader.parse("days.yaml", """
                http:
                  listen: "127.0.0.1:8080"
                policy:
                  allow: [example.com]
                timeouts:
                  idle: 2d
                """);
        assertThat(c.timeouts().idle()).isEqualTo(Duration.ofHours(48));
        assertThatThrownBy(() -> ConfigLoader.parse("days.yaml",
                "timeouts:\n  idle: 101d\nhttp:\n  listen: \"127.0.0.1:8080\"\npolicy:\n  allow: [example.com]\n"))
                .hasMessageContaining("days.yaml:2:9: timeouts.idle: \"101d\" is longer than the longest duration, 100d");
        assertThatThrownBy(() -> Durations.parse("2400h1ms")).hasMessageContaining("longer than the longest duration");
        // Many long parts add up without overflowing on the way, and are still too long.
        assertThatThrownBy(() -> Durations.parse("999999999d".repeat(200_000)))
                .hasMessageContaining("longer than the longest duration");
        assertThatThrownBy(() -> Durations.parse("7 d")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("7D")).hasMessageContaining("is not a duration");
    }

    /** An allow entry limited to ports: the name on those ports only, for every listener kind; no CONNECT port opened. */
    @Test
    void allowEntriesWithPorts() throws Exception {
        String head = "http:\n  listen: \"127.0.0.1:8080\"\n  connectPorts: [443]\n";
        EgressConfig c = ConfigLoader.parse("ports.yaml", head + """
                policy:
                  allow:
                    - "api.github.com"
                    - {host: "api.stripe.com", ports: [443, 8443]}
                  roles:
                    - name: team
                      clients: ["127.0.1.0/24"]
                      allow: [{host: "*.example.com", ports: [80]}]
                """);
        assertThat(c.policy().allow()).extracting(Object::toString)
                .containsExactly("api.github.com", "api.stripe.com ports [443, 8443]");
        assertThat(c.policy().roles().get(0).allow()).extracting(Object::toString)
                .containsExactly("*.example.com ports [80]");
        io.meshegress.policy.Role byDefault = c.egressPolicy().defaultRole();
        assertThat(byDefault.checkName("api.stripe.com", 443).toString())
                .isEqualTo("allowed by policy.allow[1] \"api.stripe.com\" ports [443, 8443]");
        assertThat(byDefault.checkName("api.stripe.com", 22).toString()).isEqualTo("refused by policy.allow[1] "
                + "\"api.stripe.com\" ports [443, 8443] (port 22 is not one of its ports [443, 8443])");
        assertThat(byDefault.checkName("api.github.com", 22).allowed()).isTrue();
        // Unlike a mesh destination's, an entry's ports open no CONNECT port.
        assertThat(byDefault.destinationListingPort("api.stripe.com", 8443)).isEmpty();
        io.meshegress.policy.Role team = c.egressPolicy().roles().get(0);
        assertThat(team.checkName("a.example.com", 80).allowed()).isTrue();
        assertThat(team.checkName("a.example.com", 443).allowed()).isFalse();

        for (String[] bad : new String[][] {
            {"  allow: [{host: a.com}]", ":5:11: policy.allow[0]: an entry with ports needs host and ports"},
            {"  allow: [{host: a.com, ports: []}]", ":5:32: policy.allow[0].ports: at least one port"},
            {"  allow: [{host: a.com, port: [443]}]", ":5:25: policy.allow[0].port: unknown key"},
            {"  allow: [{host: a.com, ports: [0]}]", "policy.allow[0].ports[0]: \"0\" is not a port"},
            {"  allow: [{host: \"*.*.com\", ports: [443]}]", "policy.allow[0].host: \"*.*.com\" is not a host pattern"},
            {"  roles: [{name: r, clients: [10.0.0.0/8], allow: [{ports: [1]}]}]",
                "policy.roles[0].allow[0]: an entry with ports needs host and ports"},
        }) {
            assertThatThrownBy(() -> ConfigLoader.parse("bad.yaml", head + "policy:\n" + bad[0] + "\n"))
                    .as(bad[0]).hasMessageContaining(bad[1]);
        }
    }
}
