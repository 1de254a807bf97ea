package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The access log's time field is exactly what {@code Instant.toString} prints, whatever the instant. */
class InstantTextTest {

    private static String viaInstantText(InstantText text, Instant t) {
        return new String(text.chars(), 0, text.format(t));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-12-02T10:00:00Z", "2026-12-02T10:00:00.100Z", "2026-12-02T10:00:00.000100Z",
            "2026-12-02T10:00:00.000000001Z", "2026-12-02T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
            "2024-02-29T12:34:56.789Z", "9999-12-31T23:59:59.999999999Z", "+10000-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z", "-0001-06-01T00:00:00Z", "0000-01-01T00:00:00Z"})
    void edgesPrintAsInstantDoes(String iso) {
        Instant t = Instant.parse(iso);
        assertThat(viaInstantText(new InstantText(), t)).isEqualTo(t.toString());
    }

    @Test
    void anyInstantInAnyOrderPrintsAsInstantDoes() {
        // One formatter for all, as the writer keeps one: the cached second must never leak into the next line.
        InstantText text = new InstantText();
        SplittableRandom random = new SplittableRandom(20261202);
        for (int i = 0; i < 200_000; i++) {
            long second = switch (i % 4) {
                case 0 -> 1_764_670_000L + random.nextInt(3); // a busy log: the same few seconds again and again
                case 1 -> random.nextLong(0, 253_402_300_800L); // 1970 .. 9999
                case 2 -> random.nextLong(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond());
                default -> random.nextLong(-100, 100);
            };
            int nano = switch (random.nextInt(4)) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant t = Instant.ofEpochSecond(second, nano);
            assertThat(viaInstantText(text, t)).as("%s", t).isEqualTo(t.toString());
        }
    }
}
