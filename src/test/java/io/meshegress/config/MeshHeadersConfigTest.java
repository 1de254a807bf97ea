package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** http.forwardTraceHeaders and http.stripHeaders as the loader reads them; names are RFC 9110 tokens. */
class MeshHeadersConfigTest {

    @Test
    void absentKeysStripTheTraceContextAndNothingMore() throws Exception {
        EgressConfig.MeshHeaders m = ConfigLoader.parse("h.yaml", "http: {listen: \"127.0.0.1:8080\"}\n"
                + "policy:\n  allow: [a.test]\n").http().meshHeaders();
        assertThat(m.forwardTraceHeaders()).isFalse();
        assertThat(m.stripHeaders()).isEmpty();
    }

    @Test
    void namesAreKeptInLowerCase() throws Exception {
        EgressConfig.MeshHeaders m = ConfigLoader.parse("h.yaml", """
                http:
                  forwardTraceHeaders: true
                  stripHeaders: [X-Tenant, "x-debug_token", "a!#$%&'*+-.^_`|~9"]
                """).http().meshHeaders();
        assertThat(m.forwardTraceHeaders()).isTrue();
        assertThat(m.stripHeaders()).containsExactly("x-tenant", "x-debug_token", "a!#$%&'*+-.^_`|~9");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            stripHeaders: ["x tenant"]        | h.yaml:3:18: http.stripHeaders[0]: "x tenant" is not a header name
            stripHeaders: [ok, "x:y"]         | h.yaml:3:22: http.stripHeaders[1]: "x:y" is not a header name
            stripHeaders: ["é"]               | h.yaml:3:18: http.stripHeaders[0]: "é" is not a header name
            stripHeaders: [""]                | h.yaml:3:18: http.stripHeaders[0]: an empty header name
            stripHeaders: [Content-Length]    | h.yaml:3:18: http.stripHeaders[0]: content-length cannot be stripped
            stripHeaders: [transfer-encoding] | h.yaml:3:18: http.stripHeaders[0]: transfer-encoding cannot be stripped
            stripHeaders: [Host]              | h.yaml:3:18: http.stripHeaders[0]: host cannot be stripped
            stripHeaders: x-one               | h.yaml:3:17: http.stripHeaders: expected a list
            forwardTraceHeaders: sometimes    | h.yaml:3:24: http.forwardTraceHeaders:
            """)
    void mistakesAreOneLineWithFileLineAndColumn(String line, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse("h.yaml", "policy: {allow: [a.test]}\nhttp:\n  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(expected)
                .hasMessageNotContaining("\n");
    }
}
