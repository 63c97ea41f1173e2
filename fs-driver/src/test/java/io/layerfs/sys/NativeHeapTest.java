package io.layerfs.sys;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import jnr.ffi.LibraryLoader;

import org.junit.jupiter.api.Test;

/** {@link NativeHeap} on this machine's glibc, checked by the RSS of this very process. */
class NativeHeapTest {
    /** The test's own way to fill and free the C heap. */
    public interface CHeap {
        long malloc(long size);

        void free(long pointer);
    }

    private static final CHeap HEAP = LibraryLoader.create(CHeap.class).failImmediately().load("c");

    @Test
    void trim_afterFreeingSmallBlocks_givesTheirPagesBack() throws Exception {
        assertTrue(NativeHeap.available(), "glibc has malloc_trim");
        NativeHeap.trim();
        // 32 MiB in 64 KiB blocks (below glibc's mmap threshold, so from the heap), written to;
        // then every other one freed: the freed half lies between blocks still in use, where free()
        // cannot give it back (only the top of a heap shrinks by itself), but malloc_trim can
        int block = 64 << 10;
        long[] blocks = new long[512];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = HEAP.malloc(block);
            assertNotEquals(0, blocks[i]);
            jnr.ffi.Runtime.getSystemRuntime().getMemoryManager().newPointer(blocks[i]).setMemory(0, block, (byte) 1);
        }
        for (int i = 0; i < blocks.length; i += 2) {
            HEAP.free(blocks[i]);
        }
        long kept = rssKib();
        boolean released = NativeHeap.trim();
        long trimmed = rssKib();
        for (int i = 1; i < blocks.length; i += 2) {
            HEAP.free(blocks[i]);
        }
        assertTrue(released, "malloc_trim says it gave memory back");
        assertTrue(kept - trimmed > 12 * 1024, "RSS " + kept + " -> " + trimmed + " KiB: expected 16 MiB back");
    }

    private static long rssKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }
}
