package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A file means what it says: its listeners are the ones it writes, and a file that writes none is an error at its
 * first line; ports are numbers (as in Kubernetes' and Istio's schemas, where a quoted port is a type error);
 * an empty clients list is refused with what to write instead.
 */
class DeclaredOnlyTest {

    @Test
    void aFileWithOnlyHttpHasNoSniListener() throws Exception {
        EgressConfig c = ConfigLoader.parse("egress.yaml", "http:\n  listen: \"127.0.0.1:8080\"\n");
        assertThat(c.sni()).isEmpty();
        assertThat(c.listeners()).extracting(EgressConfig.Listener::kind).containsExactly("http", "admin");
    }

    @Test
    void aFileWithOnlySniHasNoHttpListener() throws Exception {
        EgressConfig c = ConfigLoader.parse("egress.yaml", "sni:\n  - listen: \"127.0.0.1:8443\"\nadmin: null\n");
        assertThat(c.http()).isNull();
        assertThat(c.listeners()).extracting(EgressConfig.Listener::kind).containsExactly("sni");
    }

    @Test
    void aFileWithNoListenerIsAnErrorAtItsFirstLine() {
        Map<String, Integer> files = new LinkedHashMap<>();
        files.put("policy:\n  allow: [api.example.com]\n", 1);
        files.put("admin:\n  listen: \"127.0.0.1:9901\"\n", 1);
        files.put("\n\n# a comment\npolicy:\n  mode: enforce\n", 4);
        files.put("http: null\nsni: []\n", 1);
        files.put("http: ~\nsni: null\n", 1);
        files.forEach((text, line) -> assertThatThrownBy(() -> ConfigLoader.parse("egress.yaml", text)).as(text)
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("egress.yaml:" + line + ":1: no listener: declare http")
                .hasMessageContaining("sni"));
    }

    /** Every key that takes a port refuses a quoted one, at its line and column. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            http:\\n  connectPorts: ["443"]\\n                                                | 2:18 | http.connectPorts[0]
            sni:\\n  - listen: "127.0.0.1:8443"\\n    upstreamPort: "443"\\n                 | 3:19 | sni[0].upstreamPort
            mesh:\\n  destinations:\\n    - hosts: [a.example]\\n      tls: ["443"]\\n    | 4:13 | mesh.destinations[0].tls[0]
            mesh:\\n  destinations:\\n    - hosts: [a.example]\\n      http: [80, "8080"]\\n | 4:18 | mesh.destinations[0].http[1]
            policy:\\n  roles:\\n    - name: a\\n      clients: [10.1.0.0/16]\\n      connectPorts: ["443"]\\n | 5:22 | policy.roles[0].connectPorts[0]
            mesh:\\n  enforce:\\n    namespaces: [shop]\\n    dns:\\n      ports: ["53"]\\n | 5:15 | mesh.enforce.dns.ports[0]
            """)
    void aQuotedPortIsATypeError(String body, String at, String key) {
        String text = (body.startsWith("http:") || body.startsWith("sni:") ? "" : "http: {listen: \"127.0.0.1:8080\"}\n")
                .concat(body.replace("\\n", "\n"));
        int offset = text.startsWith("http: {") ? 1 : 0;
        String[] lc = at.split(":");
        String where = "egress.yaml:" + (Integer.parseInt(lc[0]) + offset) + ":" + lc[1] + ": " + key + ": ";
        assertThatThrownBy(() -> ConfigLoader.parse("egress.yaml", text))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(where)
                .hasMessageEndingWith("is text; a port is a number: write " + (key.endsWith("http[1]") ? "8080"
                        : key.endsWith("ports[0]") ? "53" : "443") + " without quotes");
    }

    @Test
    void unquotedPortsStillLoad() throws Exception {
        EgressConfig c = ConfigLoader.parse("egress.yaml", """
                http:
                  listen: "127.0.0.1:8080"
                  connectPorts: [443, 8443]
                sni:
                  - listen: "127.0.0.1:8443"
                    upstreamPort: 443
                mesh:
                  destinations:
                    - hosts: [a.example]
                      http: [80]
                      tls: [443]
                """);
        assertThat(c.http().connectPorts()).containsExactly(443, 8443);
        assertThat(c.sni().get(0).upstreamPort()).isEqualTo(443);
        assertThat(c.mesh().destinations().get(0).tls()).containsExactly(443);
    }

    @Test
    void anEmptyClientsListSaysWhatToWrite() {
        assertThatThrownBy(() -> ConfigLoader.parse("egress.yaml", """
                http:
                  listen: "127.0.0.1:8080"
                policy:
                  clients: []
                """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("egress.yaml:4:12: policy.clients: an empty list admits no client")
                .hasMessageContaining("omit clients for the private ranges 10.0.0.0/8, ")
                .hasMessageEndingWith("or write clients: [\"0.0.0.0/0\", \"::/0\"] to admit any client");
    }
}
