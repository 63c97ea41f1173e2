package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FuseConnectionsTest {
    @Test
    void connectionName_anonymousDevice_isTheMinor() {
        assertEquals("38", FuseConnections.connectionName("0:38"));
    }

    @Test
    void connectionName_realMajor_isTheKernelDevT() {
        assertEquals(Long.toString((8L << 20) | 1), FuseConnections.connectionName("8:1"));
    }

    @Test
    void connectionName_notMajorMinor_isRefused() {
        assertThrows(IllegalArgumentException.class, () -> FuseConnections.connectionName("38"));
    }
}
