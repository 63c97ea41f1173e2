package io.layerfs.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Errno;

/*
 *   lower/ f "lower"
 *   upper/ (empty)   work/   mnt/
 */
class KernelOverlayTest {
    @TempDir
    Path tmp;

    private List<Path> lowers;
    private Path upper;
    private Path work;
    private Path mnt;

    @BeforeEach
    void layers() throws IOException {
        MountTests.requireMountPrivileges();
        lowers = LayerFixture.in(tmp).layer("lower").file("f", "lower").layers();
        upper = Files.createDirectories(tmp.resolve("upper"));
        work = Files.createDirectories(tmp.resolve("work"));
        mnt = Files.createDirectories(tmp.resolve("mnt"));
    }

    @Test
    void mount_writable_copiesUpIntoUpper_andCloseUnmounts() throws Exception {
        KernelOverlay o = KernelOverlay.mount(lowers, upper, work, mnt, KernelOverlay.REFERENCE_OPTIONS);
        try {
            assertTrue(Mounts.isMounted(mnt));
            assertEquals(0, Ops.apply(mnt, Op.append("f", 3, 1)));
            assertEquals(8, Files.size(upper.resolve("f")), "copied up, then appended");
            assertEquals(5, Files.size(lowers.get(0).resolve("f")), "the lower is untouched");
        } finally {
            o.close();
        }
        assertFalse(Mounts.isMounted(mnt));
        o.close(); // idempotent
    }

    @Test
    void mountReadOnly_refusesWrites_evenWithOneLower() throws Exception {
        try (KernelOverlay o = KernelOverlay.mountReadOnly(lowers, mnt)) {
            assertEquals(mnt, o.mountpoint());
            assertEquals(Errno.EROFS, Ops.apply(mnt, Op.create("n", 0644, 0, 0)));
            assertEquals("lower", Files.readString(mnt.resolve("f")));
            assertEquals(List.of("f"), List.copyOf(TreeSnapshot.of(mnt).entries().keySet()).subList(1, 2));
        }
        assertFalse(Mounts.isMounted(mnt));
        assertFalse(Files.exists(tmp.resolve("mnt.empty-lower")), "the helper lower is removed");
    }

    @Test
    void mount_failure_isAnIOExceptionWithTheReason() {
        IOException e = assertThrows(IOException.class,
                () -> KernelOverlay.mount(List.of(tmp.resolve("no-such-lower")), upper, work, mnt, ""));
        assertTrue(e.getMessage().contains("mount -t overlay"), e.getMessage());
    }

    @Test
    void deleteTree_refusesWhileSomethingIsMountedBelow() throws Exception {
        try (KernelOverlay o = KernelOverlay.mountReadOnly(lowers, mnt)) {
            assertTrue(Mounts.anyMountUnder(tmp), o.toString());
            assertThrows(IOException.class, () -> Mounts.deleteTree(tmp));
            assertTrue(Files.exists(lowers.get(0).resolve("f")));
        }
        Mounts.deleteTree(tmp.resolve("upper"));
        assertFalse(Files.exists(tmp.resolve("upper")));
    }
}
