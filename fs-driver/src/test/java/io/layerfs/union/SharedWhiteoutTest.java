package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.KernelOverlay;
import io.layerfs.testkit.MountTests;

/**
 * Whiteouts are hard links to one 0/0 device in the workdir, as kernel overlayfs makes them: a
 * deleted lower tree costs no inode per name, and every reader of the upper still sees whiteouts.
 *
 * <pre>
 *   lower/   the files each test names ("lower NAME" in each), e.g. a, b, d/x
 *   upper/   empty; the unlinks leave a whiteout per name here
 *   work/    work/#lfs-whiteoutN while mounted: the device the whiteouts are links of
 * </pre>
 */
class SharedWhiteoutTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private UnionConfig config(String... lowerFiles) throws IOException {
        Path lower = Files.createDirectories(tmp.resolve("lower"));
        for (String f : lowerFiles) {
            Files.createDirectories(lower.resolve(f).getParent());
            Files.writeString(lower.resolve(f), "lower " + f);
        }
        return new UnionConfig(List.of(lower), Files.createDirectories(tmp.resolve("upper")),
                Files.createDirectories(tmp.resolve("work")));
    }

    private static Stat lstat(Path p) throws Exception {
        return SYS.lstat(Sys.AT_FDCWD, p.toString());
    }

    private static void assertWhiteout(Path p) throws Exception {
        Stat st = lstat(p);
        assertTrue(st.isWhiteoutDevice(), p + " is a 0/0 character device");
    }

    private List<Path> workEntries() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("work/work"))) {
            return s.toList();
        }
    }

    @Test
    void unlink_lowerFiles_whiteoutsAreLinksOfOneDevice() throws Exception {
        UnionConfig c = config("a", "b", "d/x");
        try (UnionFs fs = UnionFs.open(c)) {
            fs.unlink("/a");
            fs.unlink("/b");
            fs.unlink("/d/x");
            fs.rmdir("/d");
            assertEquals(List.of(), fs.list("/"));
            long ino = lstat(tmp.resolve("upper/a")).ino;
            for (String name : List.of("a", "b", "d")) {
                assertWhiteout(tmp.resolve("upper").resolve(name));
                assertEquals(ino, lstat(tmp.resolve("upper").resolve(name)).ino, name + " shares the whiteout");
            }
            assertEquals(1, workEntries().size(), "the shared whiteout, while mounted");
        }
        assertEquals(List.of(), workEntries(), "the shared whiteout's own name goes at unmount");
        assertEquals(3, lstat(tmp.resolve("upper/a")).nlink, "a, b and d");
    }

    @Test
    void sharedWhiteouts_kernelOverlayfsHidesTheNames() throws Exception {
        MountTests.requireMountPrivileges();
        UnionConfig c = config("a", "b", "keep");
        try (UnionFs fs = UnionFs.open(c)) {
            fs.unlink("/a");
            fs.unlink("/b");
        }
        assertEquals(lstat(tmp.resolve("upper/a")).ino, lstat(tmp.resolve("upper/b")).ino);
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (KernelOverlay ovl = KernelOverlay.mount(List.of(tmp.resolve("lower")), tmp.resolve("upper"),
                tmp.resolve("work"), mnt, KernelOverlay.REFERENCE_OPTIONS)) {
            try (Stream<Path> s = Files.list(mnt)) {
                assertEquals(List.of("keep"), s.map(p -> p.getFileName().toString()).toList());
            }
            assertFalse(Files.exists(mnt.resolve("a"), LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void unlink_sharedWhiteoutAtTheLinkLimit_aFreshOneTakesOver() throws Exception {
        String[] names = new String[20];
        for (int i = 0; i < names.length; i++) {
            names[i] = "f" + i;
        }
        UnionConfig c = config(names);
        try (UnionFs fs = UnionFs.open(c)) {
            fs.unlink("/f0");
            List<Path> shared = workEntries();
            assertEquals(1, shared.size());
            // fill the shared whiteout up to the filesystem's link limit (65,000 on ext4)
            Path links = Files.createDirectories(tmp.resolve("links"));
            FileSystemException full = assertThrows(FileSystemException.class, () -> {
                for (int i = 0; i < 200_000; i++) {
                    Files.createLink(links.resolve("l" + i), shared.get(0));
                }
            }, "the temporary directory's filesystem has a link limit (ext4 here)");
            assertTrue(full.getMessage().contains("Too many links"), full.getMessage());

            for (int i = 1; i < names.length; i++) {
                fs.unlink("/" + names[i]);
            }
            assertEquals(List.of(), fs.list("/"));
            Set<Long> inodes = new HashSet<>();
            for (String n : names) {
                assertWhiteout(tmp.resolve("upper").resolve(n));
                inodes.add(lstat(tmp.resolve("upper").resolve(n)).ino);
            }
            assertEquals(2, inodes.size(), "f0 on the full whiteout, f1.. on the fresh one");
            List<Path> now = workEntries();
            assertEquals(1, now.size(), "the full one's name is gone from the workdir: " + now);
            assertFalse(now.get(0).equals(shared.get(0)));
        }
    }
}
