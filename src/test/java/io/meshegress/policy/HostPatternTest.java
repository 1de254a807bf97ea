package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPatternTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource({
            "api.example.com,   api.example.com,   true",
            "api.example.com,   API.Example.COM.,  true",
            "api.example.com,   x.api.example.com, false",
            "*.qq.com,          www.qq.com,        true",
            "*.qq.com,          a.b.qq.com,        true",
            "*.qq.com,          qq.com,            false",
            "*.qq.com,          xqq.com,           false",
            "*.qq.com,          WWW.QQ.COM.,       true",
            "*.QQ.com.,         www.qq.com,        true",
            "*,                 anything.at.all,   true",
            "*,                 10.0.0.1,          false",
            "*.bücher.de,       www.xn--bcher-kva.de, true",
            "*.bücher.de,       www.bücher.de,     true",
            "10.0.0.1,          10.0.0.1,          true",
            "*.0.0.1,           10.0.0.1,          false",
            "::1,               [0:0:0:0:0:0:0:1], true",
    })
    void matches(String pattern, String host, boolean expected) {
        String normalized = HostPattern.normalizeHost(host).orElseThrow();
        assertThat(HostPattern.parse(pattern).matches(normalized)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "*.*.qq.com | \"*.qq.com\" already matches any depth",
            "**.qq.com  | \"*.qq.com\" already matches any depth",
            "a*.qq.com  | a wildcard may only be the first label",
            "qq.*       | a wildcard may only be the first label",
            "a..b       | empty label",
            "a b.com    | character \" \" is not allowed",
            "-a.com     | starts or ends with '-'",
    })
    void rejects(String pattern, String message) {
        assertThatThrownBy(() -> HostPattern.parse(pattern)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a host pattern").hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource({"'', ", "'a..b', ", "'bad host', "})
    void invalidHostsDoNotNormalize(String host) {
        assertThat(HostPattern.normalizeHost(host)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "a..b                | empty label",
            "-a.b                | label \"-a\" starts or ends with '-'",
            "a.b-                | label \"b-\" starts or ends with '-'",
            "a b.c               | character \" \" is not allowed in a host name",
            "www.qq.com          | ",
            "_dmarc.Example.COM  | "})
    void nameProblemsAreNamed(String name, String problem) {
        assertThat(HostPattern.nameProblem(name)).isEqualTo(problem);
    }

    @org.junit.jupiter.api.Test
    void longLabelsAndNamesAreProblems() {
        assertThat(HostPattern.nameProblem("a".repeat(64) + ".com")).isEqualTo("label longer than 63 characters");
        assertThat(HostPattern.nameProblem("a".repeat(63) + ".com")).isNull();
        assertThat(HostPattern.nameProblem(("a".repeat(60) + ".").repeat(5))).isEqualTo("longer than 253 characters");
    }

    @ParameterizedTest
    @CsvSource({"Www.QQ.com, www.qq.com", "WWW.BÜCHER.de., www.xn--bcher-kva.de", "xn--bcher-kva.de, xn--bcher-kva.de"})
    void asciiAndUnicodeNamesNormalizeAlike(String host, String normalized) {
        assertThat(HostPattern.normalizeHost(host)).contains(normalized);
    }

    @ParameterizedTest
    @CsvSource({"6.6.6.6., 6.6.6.6", "6.6.6.06, 6.6.6.6", "6.6.6.06., 6.6.6.6", "[::FFFF:0:1], 0.0.0.1", "::ffff:6.6.6.6, 6.6.6.6",
            "[2001:DB8:0:0::1], 2001:db8::1",
            "06\u300266.36.6, 6.66.36.6", "127\uff0e0\uff0e0\uff0e1, 127.0.0.1"})
    void everySpellingOfAnAddressNormalizesToOneLiteral(String host, String normalized) {
        // Found by fuzzing: "6.6.6.06." stayed a name, so a deny pattern for 6.6.6.6 did not match it.
        assertThat(HostPattern.normalizeHost(host)).contains(normalized);
        assertThat(HostPattern.normalizeHost(normalized)).contains(normalized);
        HostMatcher<String> deny = new HostMatcher<String>().add(HostPattern.parse(normalized), "deny");
        assertThat(deny.matches(HostPattern.normalizeHost(host).orElseThrow())).containsExactly("deny");
    }
}
