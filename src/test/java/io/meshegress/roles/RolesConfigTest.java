package io.meshegress.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.policy.PolicyMode;
import io.meshegress.testing.Configs;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** policy.roles and policy.mode as the loader reads them, and every mistake as one line with file:line:col. */
class RolesConfigTest {

    @Test
    void rolesAreReadInOrderAndInheritTheMode() throws Exception {
        EgressConfig c = Configs.parseWithDefaultListeners("r.yaml", """
                policy:
                  mode: report
                  allow: [a.test]
                  roles:
                    - name: payments
                      clients: ["10.1.0.0/16", 10.9.8.7]
                      allow: [api.stripe.com, "*.adyen.com"]
                      mode: enforce
                      connectPorts: [443]
                    - name: batch
                      clients: ["10.2.0.0/16"]
                      allow: ["*"]
                """);
        assertThat(c.policy().mode()).isEqualTo(PolicyMode.REPORT);
        List<EgressConfig.Role> roles = c.policy().roles();
        assertThat(roles).extracting(EgressConfig.Role::name).containsExactly("payments", "batch");
        assertThat(roles.get(0).mode()).isEqualTo(PolicyMode.ENFORCE);
        assertThat(roles.get(0).connectPorts()).containsExactly(443);
        assertThat(roles.get(1).mode()).as("inherits policy.mode").isEqualTo(PolicyMode.REPORT);
        assertThat(roles.get(1).connectPorts()).isNull();
        assertThat(Configs.parseWithDefaultListeners("r.yaml", "").policy().mode()).isEqualTo(PolicyMode.ENFORCE);
    }

    @Test
    void aBroaderRangeInALaterRoleIsFineFirstMatchWins() throws Exception {
        EgressConfig c = Configs.parseWithDefaultListeners("r.yaml", """
                policy:
                  roles:
                    - {name: narrow, clients: ["10.1.2.0/24"], allow: [a.test]}
                    - {name: broad, clients: ["10.0.0.0/8"], allow: [b.test]}
                """);
        assertThat(c.egressPolicy().role(java.net.InetAddress.getByName("10.1.2.3")).name()).isEqualTo("narrow");
        assertThat(c.egressPolicy().role(java.net.InetAddress.getByName("10.7.0.1")).name()).isEqualTo("broad");
        assertThat(c.egressPolicy().role(java.net.InetAddress.getByName("192.0.2.1")).name()).isEqualTo("default");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            - {clients: [10.0.0.0/8]}                                      | r.yaml:3:7: policy.roles[0]: a role needs a name (e.g. name: payments)
            - {name: a, clients: [10.0.0.0/8]}\\n    - {name: a, clients: [11.0.0.0/8]} | r.yaml:4:14: policy.roles[1].name: role "a" is already defined at line 3
            - {name: a}                                                    | r.yaml:3:7: policy.roles[0]: role a needs clients (CIDRs or addresses, e.g. clients: ["10.1.0.0/16"]) or workloads (e.g. workloads: [{namespace: payments}])
            - {name: a, clients: []}                                       | r.yaml:3:26: policy.roles[0].clients: role a needs at least one client CIDR or address
            - {name: a, clients: [10.0.0.0/8]}\\n    - {name: b, clients: [10.0.0.0/8]} | r.yaml:4:27: policy.roles[1].clients[0]: "10.0.0.0/8" is already held by policy.roles[0].clients "10.0.0.0/8" (the first role that holds a client wins); a client belongs to one role
            - {name: a, clients: [10.0.0.0/8]}\\n    - {name: b, clients: [10.1.0.0/16]} | r.yaml:4:27: policy.roles[1].clients[0]: "10.1.0.0/16" is already held by policy.roles[0].clients "10.0.0.0/8" (the first role that holds a client wins); a client belongs to one role
            - {name: default, clients: [10.0.0.0/8]}                       | r.yaml:3:14: policy.roles[0].name: "default" is the role of clients in no role (policy.allow); pick another name
            - {name: Pay Ments, clients: [10.0.0.0/8]}                     | r.yaml:3:14: policy.roles[0].name: "Pay Ments" is not a role name (lower-case letters, digits and '-', at most 63)
            - {name: a, clients: [10.0.0.0/8], mode: audit}                | r.yaml:3:46: policy.roles[0].mode: "audit" is not enforce or report
            - {name: a, clients: [10.0.0.0/8], connectPorts: [22]}         | r.yaml:3:55: policy.roles[0].connectPorts[0]: port 22 is not in http.connectPorts [443, 563] (a role may only narrow them)
            - {name: a, clients: [10.0.0.0/8], alow: [x]}                  | r.yaml:3:40: policy.roles[0].alow: unknown key (did you mean "allow"?)
            """)
    void mistakesAreOneLineWithTheirPlace(String roles, String expected) {
        String yaml = "policy:\n  roles:\n    " + roles.replace("\\n", "\n");
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("r.yaml", yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected);
    }
}
