package io.meshegress.roles;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.observe.AccessEntry;
import io.meshegress.testing.Command;
import io.meshegress.testing.HttpOrigin;
import io.meshegress.testing.ProxyUnderTest;
import io.meshegress.testing.TestPki;
import io.meshegress.testing.TlsOrigin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Roles and report mode over the real wire, with curl from a loopback address of each client's own: two roles
 * with disjoint allow-lists, a client in no role, and a role in report mode, on all three request kinds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolesWireTest {
    static final String PROXY = "127.0.0.80";
    static final String PAYMENTS = "127.0.0.82";
    static final String BATCH = "127.0.0.83";
    static final String AUDIT = "127.0.0.84";
    static final String NOBODY = "127.0.0.85";
    static final String CONFIG = """
            http:
              listen: "127.0.0.80:8080"
              connectPorts: [10443]
            sni:
              - listen: "127.0.0.80:8443"
                upstreamPort: 10443
            admin: null
            resolver:
              hosts: {pay.qq.test: 127.0.0.81, batch.qq.test: 127.0.0.81, common.qq.test: 127.0.0.81,
                      x.evil.qq.test: 127.0.0.81, inner.qq.test: 127.0.0.9}
            policy:
              allow: [common.qq.test]
              deny: ["*.evil.qq.test"]
              denyNetworks: [127.0.0.9/32]
              roles:
                - name: payments
                  clients: ["127.0.0.82"]
                  allow: [pay.qq.test]
                - name: batch
                  clients: ["127.0.0.83/32"]
                  allow: [batch.qq.test]
                - name: audit
                  clients: ["127.0.0.84/32"]
                  allow: []
                  mode: report
            mesh:
              destinations: []
            """;

    TestPki pki;
    HttpOrigin http;
    TlsOrigin tls;
    ProxyUnderTest proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        pki = TestPki.create(dir);
        http = new HttpOrigin("127.0.0.81", 8081);
        tls = new TlsOrigin("127.0.0.81", 10443, pki);
        proxy = new ProxyUnderTest(CONFIG);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {proxy, http, tls}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** One request of {@code kind} from {@code client} to {@code host}; curl's exit code (0: answered 2xx). */
    private Command send(String kind, String client, String host) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "10", "--interface", client));
        switch (kind) {
            case "connect" -> cmd.addAll(List.of("-x", "http://" + PROXY + ":8080", "--cacert", pki.caPem().toString(),
                    "https://" + host + ":10443/hello"));
            case "http" -> cmd.addAll(List.of("-x", "http://" + PROXY + ":8080", "http://" + host + ":8081/hello"));
            default -> cmd.addAll(List.of("--cacert", pki.caPem().toString(), "--connect-to",
                    host + ":10443:" + PROXY + ":8443", "https://" + host + ":10443/hello"));
        }
        return Command.run(cmd);
    }

    private AccessEntry entry(String kind, String client, String host) {
        return proxy.awaitEntry(e -> e.kind().equals(kind) && host.equals(e.host())
                && e.client().startsWith(client + ":"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"connect", "http", "sni"})
    void eachRoleReachesItsOwnHostsAndNotTheOthers(String kind) throws Exception {
        assertThat(send(kind, PAYMENTS, "pay.qq.test").exitCode()).isZero();
        AccessEntry paid = entry(kind, PAYMENTS, "pay.qq.test");
        assertThat(paid.role()).isEqualTo("payments");
        assertThat(paid.decision()).isEqualTo("allowed");
        assertThat(paid.reason()).isEqualTo("policy.roles[0].allow[0] \"pay.qq.test\"");
        assertThat(paid.wouldRefuse()).isNull();

        Command refused = send(kind, PAYMENTS, "batch.qq.test");
        assertThat(refused.exitCode()).isNotZero();
        AccessEntry no = entry(kind, PAYMENTS, "batch.qq.test");
        assertThat(no.role()).isEqualTo("payments");
        assertThat(no.decision()).isEqualTo("refused");
        assertThat(no.status()).isEqualTo(403);
        assertThat(no.reason()).isEqualTo(
                "refused by policy.roles[0].allow (batch.qq.test matches no allow pattern of role payments)");
        if (kind.equals("sni")) {
            assertThat(no.alert()).as("the contract's alert for a name the policy refuses").isEqualTo("unrecognized_name");
        }

        assertThat(send(kind, BATCH, "batch.qq.test").exitCode()).isZero();
        assertThat(entry(kind, BATCH, "batch.qq.test").reason()).isEqualTo("policy.roles[1].allow[0] \"batch.qq.test\"");
        assertThat(send(kind, BATCH, "pay.qq.test").exitCode()).isNotZero();
        assertThat(entry(kind, BATCH, "pay.qq.test").role()).isEqualTo("batch");
        // The default list is not a role's: common.qq.test is only for clients in no role.
        assertThat(send(kind, BATCH, "common.qq.test").exitCode()).isNotZero();

        assertThat(send(kind, NOBODY, "common.qq.test").exitCode()).isZero();
        AccessEntry common = entry(kind, NOBODY, "common.qq.test");
        assertThat(common.role()).isEqualTo("default");
        assertThat(common.reason()).isEqualTo("policy.allow[0] \"common.qq.test\"");
        assertThat(send(kind, NOBODY, "pay.qq.test").exitCode()).isNotZero();
        assertThat(entry(kind, NOBODY, "pay.qq.test").reason())
                .isEqualTo("refused by policy.allow (pay.qq.test matches no allow pattern or mesh destination)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"connect", "http", "sni"})
    void reportModeLetsARefusalThroughAndSaysSo(String kind) throws Exception {
        Command c = send(kind, AUDIT, "pay.qq.test");
        assertThat(c.exitCode()).as(c.err()).isZero();
        AccessEntry e = entry(kind, AUDIT, "pay.qq.test");
        assertThat(e.role()).isEqualTo("audit");
        assertThat(e.decision()).isEqualTo("allowed");
        assertThat(e.reason()).isEqualTo("policy.roles[2].mode report");
        assertThat(e.wouldRefuse())
                .isEqualTo("refused by policy.roles[2].allow (pay.qq.test matches no allow pattern of role audit)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"connect", "http", "sni"})
    void reportModeNeverRelaxesDenyNetworksOrTheGlobalDeny(String kind) throws Exception {
        assertThat(send(kind, AUDIT, "inner.qq.test").exitCode()).isNotZero();
        AccessEntry inner = entry(kind, AUDIT, "inner.qq.test");
        assertThat(inner.decision()).isEqualTo("refused");
        assertThat(inner.reason()).isEqualTo("127.0.0.9 refused by policy.denyNetworks[0] \"127.0.0.9/32\"");

        assertThat(send(kind, AUDIT, "x.evil.qq.test").exitCode()).isNotZero();
        AccessEntry evil = entry(kind, AUDIT, "x.evil.qq.test");
        assertThat(evil.decision()).isEqualTo("refused");
        assertThat(evil.reason()).isEqualTo("refused by policy.deny[0] \"*.evil.qq.test\"");
        assertThat(evil.wouldRefuse()).isNull();
    }

    @Test
    void metricsCountByRoleAndWhatReportModeLetThrough() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(send("http", AUDIT, "batch.qq.test").exitCode()).isZero();
        }
        assertThat(send("http", PAYMENTS, "pay.qq.test").exitCode()).isZero();
        proxy.awaitEntry(e -> e.client().startsWith(PAYMENTS + ":") && "pay.qq.test".equals(e.host())
                && e.kind().equals("http"));
        String scrape = proxy.metrics().scrape();
        assertThat(scrape).containsPattern("meshegress_connections_total\\{[^}]*role=\"payments\"[^}]*} [1-9]");
        assertThat(scrape).containsPattern("meshegress_would_refuse_total\\{role=\"audit\",?} ([3-9]|[1-9][0-9])");
        // Every role's series is there from the start; an enforce-mode role's stays at 0.
        assertThat(scrape).containsPattern("meshegress_would_refuse_total\\{role=\"payments\",?} 0\\.0\n");
    }
}
