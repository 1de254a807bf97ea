package io.meshegress.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigReloaderTest {
    private final Path config = Path.of("/etc/mesh-egress/mesh-egress.yaml");

    @Test
    void theConfigFileAndConfigMapSwapsConcernTheConfig() {
        assertThat(ConfigReloader.concernsConfig(Path.of("mesh-egress.yaml"), config)).isTrue();
        assertThat(ConfigReloader.concernsConfig(Path.of("..data"), config)).isTrue();
        assertThat(ConfigReloader.concernsConfig(Path.of("..2026_11_25_19_00_00.123456789"), config)).isTrue();
    }

    @Test
    void anOverflowConcernsTheConfigBecauseEventsWereLost() {
        assertThat(ConfigReloader.concernsConfig(null, config)).isTrue();
    }

    @Test
    void otherFilesInTheDirectoryDoNot() {
        assertThat(ConfigReloader.concernsConfig(Path.of("access.log"), config)).isFalse();
        assertThat(ConfigReloader.concernsConfig(Path.of("mesh-egress.yaml.swp"), config)).isFalse();
        assertThat(ConfigReloader.concernsConfig(Path.of(".mesh-egress.yaml.swp"), config)).isFalse();
    }
}
