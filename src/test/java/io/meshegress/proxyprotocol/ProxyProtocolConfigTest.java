package io.meshegress.proxyprotocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.testing.Configs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyProtocolConfigTest {

    @Test
    void offByDefaultAndReadWhenRequired() throws Exception {
        EgressConfig plain = Configs.parseWithDefaultListeners("p.yaml", "");
        assertThat(plain.http().proxyProtocol().required()).isFalse();
        assertThat(plain.sni().get(0).proxyProtocol().required()).isFalse();
        assertThat(plain.mesh().proxy().proxyProtocol()).isEqualTo("off");
        EgressConfig c = Configs.parseWithDefaultListeners("p.yaml", """
                http: {proxyProtocol: required, trustedSources: ["10.0.0.0/8"], connectSniCheck: true, echPolicy: refuse}
                sni: [{listen: "0.0.0.0:8443", proxyProtocol: required, trustedSources: [10.1.2.3], upstreamPort: header}]
                mesh: {proxy: {proxyProtocol: v2}}
                """);
        assertThat(c.http().proxyProtocol().trustedSources()).extracting(Object::toString).containsExactly("10.0.0.0/8");
        assertThat(c.http().connectSniCheck()).isEqualTo(EgressConfig.ConnectSniCheck.MATCH);
        assertThat(c.http().echPolicy()).isEqualTo(EgressConfig.EchPolicy.REFUSE);
        assertThat(c.sni().get(0).upstreamPortFromHeader()).isTrue();
        assertThat(c.mesh().proxy().proxyProtocol()).isEqualTo("v2");
        assertThat(plain.http().connectSniCheck()).isEqualTo(EgressConfig.ConnectSniCheck.OFF);
        assertThat(Configs.parseWithDefaultListeners("p.yaml", "http: {connectSniCheck: require}").http().connectSniCheck())
                .isEqualTo(EgressConfig.ConnectSniCheck.REQUIRE);
        assertThat(Configs.parseWithDefaultListeners("p.yaml", "http: {connectSniCheck: false}").http().connectSniCheck())
                .isEqualTo(EgressConfig.ConnectSniCheck.OFF);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            sni: [{listen: "0.0.0.0:8443", proxyProtocol: optional, trustedSources: [10.0.0.0/8]}] | sni[0].proxyProtocol: "optional" is not off or required (the PROXY protocol forbids guessing whether a header is there, so there is no optional)
            sni: [{listen: "0.0.0.0:8443", proxyProtocol: required}]                                | sni[0].proxyProtocol: proxyProtocol: required needs trustedSources (the peers that may name the client; a header from anyone else is refused)
            sni: [{listen: "0.0.0.0:8443", trustedSources: [10.0.0.0/8]}]                           | sni[0].trustedSources: trustedSources needs proxyProtocol: required
            sni: [{listen: "0.0.0.0:8443", upstreamPort: header}]                                   | sni[0].upstreamPort: header needs proxyProtocol: required (the port comes from the PROXY protocol header)
            http: {echPolicy: maybe}                                                                | http.echPolicy: "maybe" is not allow or refuse
            http: {connectSniCheck: strict}                                                         | http.connectSniCheck: "strict" is not true, false or require (require: a tunnel whose TLS names no server is refused too)
            mesh: {proxy: {proxyProtocol: v3}}                                                      | mesh.proxy.proxyProtocol: "v3" is not off, v1 or v2
            """)
    void mistakesAreOneLine(String yaml, String expected) {
        assertThatThrownBy(() -> Configs.parseWithDefaultListeners("p.yaml", yaml)).isInstanceOf(ConfigException.class)
                .message().contains(expected);
    }
}
