package io.meshegress.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.NetworkInterface;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/**
 * The tests run in a network namespace of their own (src/test/own-network-jdk/bin/java, the JVM Surefire and
 * Failsafe fork): its one interface is the loopback, so nothing a test binds meets this machine's ports, and
 * nothing it sends leaves the machine. A run on the machine's own network fails here, never silently.
 */
class OwnNetworkTest {

    @Test
    void theTestJvmSeesOnlyItsOwnLoopback() throws Exception {
        assertThat(Collections.list(NetworkInterface.getNetworkInterfaces()).stream().map(NetworkInterface::getName))
                .as("interfaces of the test JVM's network namespace").containsExactly("lo");
    }
}
