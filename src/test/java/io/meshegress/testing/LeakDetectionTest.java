package io.meshegress.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The suite's leak check can fail: a buffer dropped without release is reported with where it was made. */
class LeakDetectionTest {

    @Test
    void aDroppedBufferFailsTheCheck() {
        leakOne();
        assertThatThrownBy(() -> LeakDetection.check("this test"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("LEAK: ByteBuf")
                .hasMessageContaining("leakOne");
    }

    private static void leakOne() {
        ByteBuf leaked = ByteBufAllocator.DEFAULT.buffer(64);
        leaked.writeLong(42);
    }
}
