package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Test;

/**
 * The touch allocates for real: enough garbage brings collections (a compiler that left the
 * allocations out, as escape analysis may for arrays nobody reads, would bring none); and it runs
 * only when the server's options ask for it.
 */
class HeapTouchTest {
    @Test
    void touch_ofMoreThanTheYoungGeneration_bringsCollections() {
        long before = collections();

        HeapTouch.touch(Math.max(512L << 20, Runtime.getRuntime().maxMemory() / 4));

        assertTrue(collections() > before, "no collection after allocating a quarter of the heap");
    }

    @Test
    void startIfAsked_startsNothingUnlessThePropertyAsks() throws InterruptedException {
        String old = System.getProperty(HeapTouch.PROPERTY);
        try {
            System.clearProperty(HeapTouch.PROPERTY);
            assertNull(HeapTouch.startIfAsked());
            System.setProperty(HeapTouch.PROPERTY, "0");
            assertNull(HeapTouch.startIfAsked());

            System.setProperty(HeapTouch.PROPERTY, "4");
            Thread t = HeapTouch.startIfAsked();
            assertTrue(t != null && t.isDaemon(), "a daemon thread, so it never holds the server up");
            t.join(60_000);
            assertTrue(!t.isAlive(), "the touch ends");
        } finally {
            if (old == null) {
                System.clearProperty(HeapTouch.PROPERTY);
            } else {
                System.setProperty(HeapTouch.PROPERTY, old);
            }
        }
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
