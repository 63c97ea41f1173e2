package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Sys;
import io.layerfs.union.Caller;
import io.layerfs.union.UnionFs;

/**
 * {@link NodeFiles} on a real union, without the kernel: which descriptors it keeps, closes and
 * opens again. Node n stands for lower file /fN.
 */
class NodeFilesTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private UnionFs fs;

    @AfterEach
    void close() {
        if (fs != null) {
            fs.close();
        }
    }

    private NodeFiles files(int budget, int count) throws Exception {
        Stack s = new Stack(tmp, 1);
        for (int i = 0; i < count; i++) {
            s.file(s.lower(0), "f" + i, "data " + i);
        }
        fs = UnionFs.open(s.config());
        return new NodeFiles(fs, budget, node -> "/f" + node);
    }

    private long read(NodeFiles files, int node) throws Exception {
        NodeFiles.File f = files.acquire(node);
        try {
            return files.forReading(f);
        } finally {
            files.release(f);
        }
    }

    private static String contentOf(long fh) throws Exception {
        byte[] b = new byte[64];
        int n = SYS.pread((int) fh, b, b.length, 0);
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    private static boolean isOpen(long fh) {
        try {
            Files.readSymbolicLink(Path.of("/proc/self/fd/" + fh));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void reads_beyondTheBudget_stayWithinIt_andReopenWhatWasClosed() throws Exception {
        NodeFiles files = files(8, 40);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 40; i++) {
                long fh = read(files, i);
                assertEquals("data " + i, contentOf(fh));
                assertTrue(files.openCount() <= 8, files.openCount() + " open");
            }
        }
    }

    @Test
    void pinnedNode_keepsItsDescriptor_throughSweeps() throws Exception {
        NodeFiles files = files(4, 20);
        NodeFiles.File pinned = files.acquire(0);
        try {
            long fh = files.forReading(pinned);
            for (int i = 1; i < 20; i++) {
                read(files, i);
            }
            assertTrue(isOpen(fh));
            assertEquals("data 0", contentOf(fh));
        } finally {
            files.release(pinned);
        }
    }

    @Test
    void goneNodes_countOutsideTheBudget_keepTheirFile_andCloseWhenForgotten() throws Exception {
        NodeFiles files = files(4, 20);
        NodeFiles.File f = files.keepReachable(0, "/f0", fs.getattr("/f0")); // a lower file: remembered, not opened
        fs.unlink("/f0");
        files.removed(f);
        assertEquals(0, files.openCount());
        assertEquals(-1, files.any(0));
        assertEquals(0, files.goneLowerStat(0).nlink, "its stat, without an open");
        assertEquals(6, files.goneLowerStat(0).size);
        NodeFiles.File reading = files.acquire(0);
        long fh;
        try {
            fh = files.forReading(reading); // opened now, from the lower layer
        } finally {
            files.release(reading);
        }
        assertEquals("data 0", contentOf(fh));
        for (int i = 1; i < 20; i++) {
            read(files, i);
        }
        assertTrue(isOpen(fh), "a gone node's file is never swept");
        assertEquals(fh, files.any(0));
        files.forget(0);
        assertFalse(isOpen(fh));
        assertEquals(-1, files.any(0));
    }

    @Test
    void keepReachable_ofAnUpperFile_opensItBeforeTheUnlink() throws Exception {
        NodeFiles files = files(4, 0);
        long made = fs.create("/up", 0644, Sys.O_RDWR | Sys.O_CREAT, Caller.ROOT);
        SYS.pwrite((int) made, "upper".getBytes(StandardCharsets.UTF_8), 5, 0);
        fs.release(made);
        NodeFiles.File f = files.keepReachable(7, "/up", fs.getattr("/up"));
        fs.unlink("/up");
        files.removed(f);
        assertEquals("upper", contentOf(files.any(7)));
        NodeFiles.File again = files.acquire(7);
        try {
            long w = files.forWriting(again); // the same unlinked file, read-write
            SYS.pwrite((int) w, "UP".getBytes(StandardCharsets.UTF_8), 2, 0);
        } finally {
            files.release(again);
        }
        assertEquals("UPper", contentOf(files.any(7)));
    }
}
