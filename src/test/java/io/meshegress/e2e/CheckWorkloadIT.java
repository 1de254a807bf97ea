package io.meshegress.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.testing.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code check --workload} through the built jar. Each expected role is written from Kubernetes' label-selector
 * rules (kubernetes.io, "Labels and Selectors" and the LabelSelector API reference), not from our code:
 * matchLabels and matchExpressions are ANDed; {@code In} needs the key with one of the values; {@code NotIn}
 * also selects an object without the key; {@code Exists}/{@code DoesNotExist} look at the key alone, whatever
 * its value (even empty); an empty selector selects everything; and the API server labels every namespace
 * {@code kubernetes.io/metadata.name=<its name>} (since 1.21), so a namespaceSelector on that label selects by
 * name with no label given.
 */
class CheckWorkloadIT {
    static final String CONFIG = """
            http: {listen: "127.0.0.1:8080", connectPorts: [443]}
            sni: null
            admin: null
            identity:
              kubernetes: {kubeconfig: "/nonexistent/kubeconfig"}
            policy:
              allow: [default.example.com]
              roles:
                - name: payments
                  workloads: [{namespace: payments, serviceAccount: api, podSelector: {app: api}}]
                  allow: [payments.example.com]
                - name: stable-shop
                  workloads:
                    - namespace: shop
                      podSelector:
                        matchLabels: {app: web}
                        matchExpressions: [{key: track, operator: NotIn, values: [canary]}]
                  allow: [stable-shop.example.com]
                - name: search
                  workloads:
                    - namespaceSelector:
                        matchExpressions: [{key: team, operator: In, values: [search, discovery]}]
                  allow: [search.example.com]
                - name: debug
                  workloads:
                    - namespaceSelector: {matchExpressions: [{key: team, operator: DoesNotExist}]}
                      podSelector: {matchExpressions: [{key: debug, operator: Exists}]}
                  allow: [debug.example.com]
                - name: batch
                  workloads:
                    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: batch}}
                  allow: [batch.example.com]
                - name: everyone-in-tools
                  workloads: [{namespace: tools, podSelector: {}}]
                  clients: ["10.9.0.0/16"]
                  allow: [everyone-in-tools.example.com]
            mesh: {destinations: []}
            """;

    static Path file;

    @BeforeAll
    static void write(@TempDir Path dir) throws Exception {
        file = Files.writeString(dir.resolve("egress.yaml"), CONFIG);
    }

    static List<String> check(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("check", "-c", file.toString()));
        cmd.addAll(List.of(args));
        JarProcess p = JarProcess.runToEnd(cmd.toArray(String[]::new));
        assertThat(p.awaitExit()).as(String.join("\n", p.err())).isZero();
        return p.out();
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            payments/api?app=api           | -                  | payments
            payments/api                   | -                  | default
            payments/web?app=api           | -                  | default
            shop/web?app=web               | -                  | stable-shop
            shop/web?app=web,track=stable  | -                  | stable-shop
            shop/web?app=web,track=canary  | -                  | default
            shop/web?app=web               | team=discovery     | stable-shop
            other/default                  | team=discovery     | search
            other/default                  | team=search,x=y    | search
            other/default                  | team=ops           | default
            other/default                  | -                  | default
            other/default?debug=           | -                  | debug
            other/default?debug=true       | team=ops           | default
            other/default?debug=true       | team=search        | search
            batch/default                  | -                  | batch
            batch/anyone?any=label         | team=ops           | batch
            tools/default                  | -                  | everyone-in-tools
            """)
    void theRoleFollowsKubernetesSelectorSemantics(String workload, String namespaceLabels, String role)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--workload", workload));
        if (namespaceLabels != null) {
            args.addAll(List.of("--namespace-labels", namespaceLabels));
        }
        args.add(role + ".example.com");
        List<String> out = check(args.toArray(String[]::new));
        assertThat(out).anyMatch(l -> l.startsWith("workload " ) && l.contains(": role " + role + " ("));
        assertThat(out).as("the role's own allow-list answers").contains(role + ".example.com:443 via http "
                + "127.0.0.1:8080 CONNECT: allowed by " + (role.equals("default") ? "policy.allow[0] "
                + "\"default.example.com\"" : "policy.roles[" + index(role) + "].allow[0] \"" + role + ".example.com\""));
    }

    static int index(String role) {
        return List.of("payments", "stable-shop", "search", "debug", "batch", "everyone-in-tools").indexOf(role);
    }

    @Test
    void theAnswerNamesTheEntryTheVerdictsAndTheLabelsItAssumed() throws Exception {
        List<String> out = check("--workload", "payments/api?app=api", "payments.example.com:443", "search.example.com");
        assertThat(out).contains("namespace payments assumed labelled kubernetes.io/metadata.name=payments "
                        + "(Kubernetes sets it on every namespace) and nothing else (give others with --namespace-labels)",
                "workload payments/api?app=api: role payments (policy.roles[0].workloads[0] (namespace payments, "
                        + "service account api)), mode enforce",
                "payments.example.com:443 via http 127.0.0.1:8080 CONNECT: allowed by policy.roles[0].allow[0] "
                        + "\"payments.example.com\"",
                "search.example.com:443 via http 127.0.0.1:8080 CONNECT: refused by policy.roles[0].allow "
                        + "(search.example.com matches no allow pattern of role payments)");
        List<String> given = check("--workload", "other/default", "--namespace-labels", "team=search",
                "search.example.com");
        assertThat(given).contains("namespace other assumed labelled kubernetes.io/metadata.name=other (Kubernetes "
                + "sets it on every namespace) and team=search (as given)");
    }

    @Test
    void withAnAddressItIsThePodAtThatAddress() throws Exception {
        // policy.clients is not written: the private ranges. A pod outside them is refused before any role.
        List<String> outside = check("--client", "192.0.2.7", "--workload", "payments/api?app=api", "payments.example.com");
        assertThat(outside).contains("payments.example.com:443 via http 127.0.0.1:8080 CONNECT: refused by "
                + "policy.clients (client 192.0.2.7 is in none of them)");
        List<String> inside = check("--client", "10.1.2.3", "--workload", "payments/api?app=api", "payments.example.com");
        assertThat(inside).contains("client 10.1.2.3 as workload payments/api?app=api: role payments "
                + "(policy.roles[0].workloads[0] (namespace payments, service account api)), mode enforce");
        // A role holds a client by address or by workload, whichever comes first in policy.roles.
        List<String> byAddress = check("--client", "10.9.0.5", "--workload", "other/default", "everyone-in-tools.example.com");
        assertThat(byAddress).anyMatch(l -> l.startsWith("client 10.9.0.5 as workload other/default: role "
                + "everyone-in-tools (policy.roles[5].clients \"10.9.0.0/16\")"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            --workload=payments                                      | mesh-egress: --workload "payments": no service account (write NS/SA, e.g. payments/default for the namespace's default one) (expected NS/SA[?KEY=VALUE,...])
            --workload=payments/api?app                              | mesh-egress: --workload "payments/api?app": pod label "app" is not KEY=VALUE (expected NS/SA[?KEY=VALUE,...])
            --workload=Payments/api                                  | mesh-egress: --workload "Payments/api": namespace "Payments" is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63) (expected NS/SA[?KEY=VALUE,...])
            --namespace-labels=team=x                                | mesh-egress: --namespace-labels describes the namespace of --workload: give --workload too
            --workload=a/b --namespace=a                             | mesh-egress: --workload and --namespace ask different questions (the proxy's role for a pod; the mesh's layers for a namespace): give one
            --workload=a/b --namespace-labels=kubernetes.io/metadata.name=c | mesh-egress: --workload "a/b" --namespace-labels "kubernetes.io/metadata.name=c": namespace label kubernetes.io/metadata.name="c": Kubernetes sets it to the namespace's own name, a (expected NS/SA[?KEY=VALUE,...])
            """)
    void badInputIsOneLineAndExitStatusTwo(String options, String error) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("check", "-c", file.toString()));
        cmd.addAll(List.of(options.split(" ")));
        cmd.add("payments.example.com");
        JarProcess p = JarProcess.runToEnd(cmd.toArray(String[]::new));
        assertThat(p.awaitExit()).isEqualTo(2);
        assertThat(p.err()).containsExactly(error);
    }

    @Test
    void theHelpSaysWhichQuestionEachOptionAsks() throws Exception {
        JarProcess p = JarProcess.runToEnd("check", "--help");
        String help = String.join(" ", p.out()).replaceAll("\\s+", " ");
        assertThat(help).contains("--workload=NS/SA").contains("(NS/SA?KEY=VALUE,... with its pod labels)").contains("Not --namespace, which checks the "
                + "mesh's enforcement across the cluster").contains("--namespace-labels=KEY=VALUE,...")
                .contains("(the role a workload gets: --workload)");
    }
}
