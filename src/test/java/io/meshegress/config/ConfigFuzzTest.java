package io.meshegress.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Duration;

/**
 * The whole configuration loader, from bytes: UTF-8 decoding, YAML, every key's parser, cross-key rules.
 * Invariant: a file is either a configuration or exactly one short line naming the file (no other exception,
 * no multi-line or unbounded message). Durations print back to text that parses to the same length, and fit the
 * nanosecond timers they configure.
 */
class ConfigFuzzTest {

    @FuzzTest
    void configFiles(byte[] bytes) {
        try {
            ConfigLoader.parse("fuzz.yaml", ConfigFile.decode("fuzz.yaml", bytes));
        } catch (ConfigException e) {
            assertThat(e.getMessage()).startsWith("fuzz.yaml").doesNotContain("\n").doesNotContain("\r")
                    .hasSizeLessThan(700);
        }
    }

    @FuzzTest
    void durations(String text) {
        if (text == null) {
            return; // the loader only ever passes a scalar's text
        }
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(200);
            return;
        }
        assertThat(d.isNegative()).isFalse();
        assertThat(d.toNanos()).as("every timer counts in nanoseconds").isNotNegative();
        assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
    }
}
