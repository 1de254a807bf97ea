package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.policy.EgressPolicy;
import io.meshegress.policy.Principal;
import io.meshegress.policy.Workload;
import io.meshegress.testing.Configs;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * identity.basic (an htpasswd file as Apache's own htpasswd writes it), identity.bearer, identity.allowMissing and
 * the {@code user} entries of a role's workloads, as the loader reads them.
 */
class CredentialsConfigTest {
    @TempDir
    Path dir;

    /** A line made by Apache's htpasswd itself (apache2-utils), so the loader reads what users really have. */
    static String htpasswd(String flag, String user, String password) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("htpasswd", "-n", "-b", flag, user, password).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).as("htpasswd %s exit", flag).isZero();
        return out;
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private String yaml(Path htpasswd, String more) {
        return "identity:\n  basic: {file: \"" + htpasswd + "\"}\n" + more;
    }

    @Test
    void apachesBcryptLinesAreReadAndUserEntriesSelectARole() throws Exception {
        String ci = htpasswd("-B", "ci-runner", "s3cret");
        assertThat(ci).startsWith("ci-runner:$2y$05$"); // what htpasswd -B writes: version 2y, cost 5
        Path f = file("users", "# CI users\n" + ci + "\n\n" + htpasswd("-B", "deploy", "x") + "\n");
        EgressConfig c = Configs.parseWithDefaultListeners(dir.resolve("egress.yaml").toString(), yaml(f, """
                policy:
                  roles:
                    - name: ci
                      workloads: [{user: ci-runner}]
                      allow: [github.com]
                """));
        assertThat(c.identity().basic().users()).containsOnlyKeys("ci-runner", "deploy");
        assertThat(c.identity().basic().users().get("ci-runner")).isEqualTo(ci.substring("ci-runner:".length()));
        assertThat(c.identity().credentials()).isTrue();
        assertThat(c.identity().allowMissing()).isFalse();
        assertThat(c.identity().basic().toString()).doesNotContain("$2y$");
        EgressPolicy p = c.egressPolicy();
        assertThat(p.role(new Principal.User("ci-runner")).orElseThrow().name()).isEqualTo("ci");
        assertThat(p.role(new Principal.User("deploy"))).isEmpty();
        assertThat(p.roleReason(new Principal.User("ci-runner"))).contains("policy.roles[0].workloads[0] (user ci-runner)");
        assertThat(p.role(InetAddress.getByName("10.1.1.1"), null).name())
                .as("a user entry selects no address").isEqualTo("default");
    }

    @Test
    void aRelativeFileIsTheConfigFilesNeighbour() throws Exception {
        file("users", htpasswd("-B", "a", "b") + "\n");
        EgressConfig c = Configs.parseWithDefaultListeners(dir.resolve("egress.yaml").toString(),
                "identity: {basic: {file: users}}\n");
        assertThat(c.identity().basic().file()).isEqualTo(dir.resolve("users"));
    }

    @Test
    void everyOtherHashIsRefusedWithItsFileAndLine() throws Exception {
        String bcrypt = htpasswd("-B", "good", "pw");
        for (var kind : List.of(
                List.of(htpasswd("-m", "u", "pw"), "an MD5 (apr1) hash"),
                List.of(htpasswd("-s", "u", "pw"), "a SHA-1 ({SHA}) hash"),
                List.of(htpasswd("-d", "u", "pw"), "a DES crypt hash or a plain-text password"),
                List.of(htpasswd("-p", "u", "pl41n-pw"), "no bcrypt hash (a plain-text password?)"),
                List.of("u:$2y$03$" + "a".repeat(53), "a malformed bcrypt hash"))) {
            Path f = file("users", bcrypt + "\n# comment\n" + kind.get(0) + "\n");
            assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(f, "")))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(f + ":3: user \"u\": " + kind.get(1))
                    .hasMessageContaining("only bcrypt hashes are accepted (htpasswd -B)")
                    .hasMessageNotContaining(kind.get(0).substring(2));
        }
    }

    @Test
    void theFileIsReadAsUntrustedInput() throws Exception {
        String bcrypt = htpasswd("-B", "good", "pw");
        Path dup = file("dup", bcrypt + "\n" + bcrypt + "\n");
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(dup, "")))
                .hasMessage(dup + ":2: user \"good\" is already defined at line 1");
        Path noColon = file("nocolon", "just-a-name\n");
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(noColon, "")))
                .hasMessage(noColon + ":1: not USER:HASH (make lines with htpasswd -B)");
        Path latin1 = dir.resolve("latin1");
        Files.write(latin1, new byte[] {'u', 0xe9 - 256, ':', 'x', '\n'});
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(latin1, "")))
                .hasMessage(latin1 + ":1:2: not UTF-8 (byte 0xe9); save the file as UTF-8");
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(dir, "")))
                .hasMessageStartingWith(dir + ": not a regular file (a directory)");
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(dir.resolve("none"), "")))
                .hasMessage(dir.resolve("none") + ": no such file");
        Path big = dir.resolve("big");
        Files.write(big, new byte[ConfigFile.MAX_BYTES + 1]);
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml(big, "")))
                .hasMessageContaining("a configuration is at most 1048576 bytes");
    }

    @Test
    void bearerTokensSelectByNamespaceAndServiceAccountButNeverByPodLabels() throws Exception {
        EgressConfig c = Configs.parseWithDefaultListeners("e.yaml", """
                identity: {kubernetes: {}, bearer: {}}
                policy:
                  roles:
                    - name: labelled
                      workloads: [{namespace: pay, podSelector: {app: api}}]
                    - name: pay
                      workloads: [{namespace: pay, serviceAccount: api}]
                """);
        assertThat(c.identity().bearer().audience()).isEqualTo("mesh-egress");
        Principal token = new Principal.ServiceAccount(new Workload("pay", null, "api", Map.of(), Map.of()));
        assertThat(c.egressPolicy().role(token).orElseThrow().name()).isEqualTo("pay");
        assertThat(token.logName()).isEqualTo("system:serviceaccount:pay:api");
        Principal other = new Principal.ServiceAccount(new Workload("pay", null, "batch", Map.of(), Map.of()));
        assertThat(c.egressPolicy().role(other)).isEmpty();
        assertThat(c.egressPolicy().role(new Principal.User("api"))).as("a user is no service account").isEmpty();
    }

    @Test
    void oldFilesReadNoCredentials() throws Exception {
        EgressConfig c = Configs.parseWithDefaultListeners("e.yaml", "identity: {kubernetes: {}}\n");
        assertThat(c.identity().credentials()).isFalse();
        assertThat(Configs.parseWithDefaultListeners("e.yaml", "").identity()).isEqualTo(EgressConfig.Identity.NONE);
    }

    @Test
    void mistakesAreOneLineWithTheirPlace() throws Exception {
        Path f = file("users", htpasswd("-B", "ci", "pw") + "\n");
        String basic = "identity: {basic: {file: \"" + f + "\"}}\n";
        expect("identity: {bearer: {}}", "e.yaml:1:20: identity.bearer: identity.bearer checks tokens with the API "
                + "server's TokenReview: it needs identity.kubernetes (kubernetes: {} in the cluster, or {kubeconfig: "
                + "FILE} outside it)");
        expect("identity: {allowMissing: true}", "e.yaml:1:26: identity.allowMissing: allowMissing is about requests "
                + "without credentials: it needs identity.basic or identity.bearer");
        expect("identity: {basic: {}}", "e.yaml:1:19: identity.basic: identity.basic needs file (an htpasswd file of "
                + "bcrypt lines, made with htpasswd -B)");
        expect("policy: {roles: [{name: a, workloads: [{user: ci}]}]}", "e.yaml:1:47: policy.roles[0].workloads[0]"
                + ".user: role a selects a Basic user, but there is no identity.basic (add identity: {basic: {file: "
                + "HTPASSWD}})");
        expect(basic + "policy: {roles: [{name: a, workloads: [{user: ci, namespace: x}]}]}", "e.yaml:2:62: "
                + "policy.roles[0].workloads[0].namespace: a workloads entry with user names a Basic user alone; write "
                + "namespace in an entry of its own");
        expect(basic + "policy: {roles: [{name: a, workloads: [{user: \"c:i\"}]}]}", "e.yaml:2:47: "
                + "policy.roles[0].workloads[0].user: user \"c:i\" holds a colon or a control character");
        expect(basic + "policy: {roles: [{name: a, workloads: [{namespace: x}]}]}", "e.yaml:2:40: "
                + "policy.roles[0].workloads[0]: role a selects workloads, but no identity.kubernetes names the pods "
                + "(add identity: {kubernetes: {}} in the cluster, or kubernetes: {kubeconfig: FILE} outside it)");
    }

    private static void expect(String yaml, String message) {
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("e.yaml", yaml))
                .isInstanceOf(ConfigException.class).hasMessage(message);
    }
}
