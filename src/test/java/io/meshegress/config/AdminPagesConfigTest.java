package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshegress.policy.Cidr;
import org.junit.jupiter.api.Test;

/** {@code admin.pages.clients}: loopback by default, the file's list when given, one-line errors. */
class AdminPagesConfigTest {
    static final String BASE = "http: {listen: \"127.0.0.1:3128\"}\nsni: null\npolicy: {allow: [\"a.test\"]}\n";

    @Test
    void loopbackByDefaultAndTheFilesListWhenGiven() throws Exception {
        assertThat(ConfigLoader.parse("e.yaml", BASE).admin().pageClients()).extracting(Cidr::text)
                .containsExactly("127.0.0.0/8", "::1/128");
        assertThat(ConfigLoader.parse("e.yaml", BASE + "admin: {pages: {}}").admin().pageClients())
                .extracting(Cidr::text).containsExactly("127.0.0.0/8", "::1/128");
        assertThat(ConfigLoader.parse("e.yaml", BASE + "admin: {pages: {clients: [\"0.0.0.0/0\", \"::/0\"]}}")
                .admin().pageClients()).extracting(Cidr::text).containsExactly("0.0.0.0/0", "::/0");
        assertThat(ConfigLoader.parse("e.yaml", BASE + "admin: {pages: {clients: []}}").admin().pageClients()).isEmpty();
    }

    @Test
    void errorsNameTheLine() {
        assertThatThrownBy(() -> ConfigLoader.parse("e.yaml", BASE + "admin:\n  pages:\n    client: [\"10.0.0.0/8\"]\n"))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("e.yaml:6:5: admin.pages.client: unknown key");
        assertThatThrownBy(() -> ConfigLoader.parse("e.yaml", BASE + "admin:\n  pages:\n    clients: [\"10.0.0.1/8\"]\n"))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("e.yaml:6:15: admin.pages.clients[0]: ")
                .hasMessageContaining("host bits are set");
    }
}
