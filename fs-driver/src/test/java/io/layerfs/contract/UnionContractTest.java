package io.layerfs.contract;

import static io.layerfs.contract.Stack.bytes;
import static io.layerfs.contract.Stack.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The union's contract, written once and run against the engine in-process and against a real
 * FUSE mount. Every test builds its own layers; the expected on-disk state of the upper is
 * checked directly on the upper directory.
 */
public abstract class UnionContractTest {
    protected static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    /** Opens a union over the stack (read-only if readOnly). */
    protected abstract UnionView open(Stack s, boolean readOnly) throws Exception;

    /** Whether the view is a real mount (some checks need the kernel, e.g. open-unlinked files). */
    protected abstract boolean isMount();

    private UnionView open(Stack s) throws Exception {
        return open(s, false);
    }

    private Stack stack(int lowers) throws Exception {
        return new Stack(Files.createDirectories(tmp.resolve("stack")), lowers);
    }

    private static int errno(Executable e) {
        SysException ex = assertThrows(SysException.class, e::run);
        return ex.errno();
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    private static Stat hostStat(Path p) throws SysException {
        return SYS.lstatOrNull(Sys.AT_FDCWD, p.toString());
    }

    // ---- 1. lookup ----------------------------------------------------------------------------------
    // l0: a/x="l0"        l1: a/x="l1" a/y="l1" b (file)     l2: b/ (dir) b/z
    @Test
    void lookup_nameInSeveralLayers_topmostWins() throws Exception {
        Stack s = stack(3);
        s.file(s.lower(0), "a/x", "l0").file(s.lower(1), "a/x", "l1").file(s.lower(1), "a/y", "l1");
        s.file(s.upper, "a/y", "up");
        try (UnionView v = open(s)) {
            assertEquals("l0", text(v.read("/a/x")));
            assertEquals("up", text(v.read("/a/y")));
            assertEquals(List.of("x", "y"), v.list("/a"));
        }
    }

    @Test
    void lookup_nonDirectoryAboveDirectory_hidesEverythingBelow() throws Exception {
        Stack s = stack(3);
        s.file(s.lower(1), "b", "file");
        s.file(s.lower(2), "b/z", "below");
        s.file(s.lower(0), "c/q", "dir on top");
        s.file(s.lower(1), "c", "file below a dir");
        s.file(s.lower(2), "c/r", "under the file");
        try (UnionView v = open(s)) {
            assertTrue(v.stat("/b").isRegular());
            assertEquals(Errno.ENOTDIR, errno(() -> v.stat("/b/z")));
            assertEquals(List.of("q"), v.list("/c"), "a directory over a file hides the layers under the file");
        }
    }

    // ---- 2. whiteouts -------------------------------------------------------------------------------
    @Test
    void whiteouts_everyEncoding_hidesLowerName() throws Exception {
        Stack s = stack(2);
        for (String n : List.of("dev", "oci", "trusted", "user", "kept")) {
            s.file(s.lower(1), "d/" + n, n);
        }
        s.whiteout(s.lower(0), "d/dev");
        s.whiteoutOci(s.lower(0), "d/oci");
        s.whiteoutXattr(s.lower(0), "d/trusted", "trusted");
        s.whiteoutXattr(s.lower(0), "d/user", "user");
        try (UnionView v = open(s)) {
            assertEquals(List.of("kept"), v.list("/d"));
            for (String n : List.of("dev", "oci", "trusted", "user")) {
                assertEquals(Errno.ENOENT, errno(() -> v.stat("/d/" + n)), n);
            }
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/d/.wh.oci")), "marker names never show");
        }
    }

    @Test
    void unlink_lowerFile_writesKernelWhiteoutInUpper() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "etc/hostname", "h");
        try (UnionView v = open(s)) {
            v.unlink("/etc/hostname");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/etc/hostname")));
            assertEquals(List.of(), v.list("/etc"));
        }
        Stat wh = hostStat(s.upper.resolve("etc/hostname"));
        assertNotNull(wh);
        assertTrue(wh.isWhiteoutDevice(), "kernel whiteout: char device 0/0, got " + wh);
        assertTrue(Files.exists(s.lower(0).resolve("etc/hostname")), "lowers are never written");
    }

    @Test
    void unlink_upperOnlyFile_leavesNoWhiteout() throws Exception {
        Stack s = stack(1);
        s.dir(s.lower(0), "d");
        try (UnionView v = open(s)) {
            v.write("/d/new", bytes("x"));
            v.unlink("/d/new");
            assertEquals(List.of(), v.list("/d"));
        }
        assertNull(hostStat(s.upper.resolve("d/new")));
    }

    @Test
    void create_overWhiteout_replacesIt() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "old");
        try (UnionView v = open(s)) {
            v.unlink("/f");
            v.write("/f", bytes("new"));
            assertEquals("new", text(v.read("/f")));
            v.unlink("/f");
            v.symlink("target", "/f");
            assertEquals("target", v.readlink("/f"));
            v.unlink("/f");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/f")));
        }
        assertTrue(hostStat(s.upper.resolve("f")).isWhiteoutDevice());
    }

    // ---- 3. opaque directories ----------------------------------------------------------------------
    @Test
    void opaque_everyEncoding_hidesLowerContents() throws Exception {
        Stack s = stack(2);
        for (String d : List.of("t", "u", "f", "o")) {
            s.file(s.lower(1), d + "/below", "b");
            s.file(s.lower(0), d + "/above", "a");
        }
        s.opaqueXattr(s.lower(0), "t", "trusted.overlay.opaque");
        s.opaqueXattr(s.lower(0), "u", "user.overlay.opaque");
        s.opaqueXattr(s.lower(0), "f", "user.fuseoverlayfs.opaque");
        s.opaqueFile(s.lower(0), "o");
        try (UnionView v = open(s)) {
            for (String d : List.of("t", "u", "f", "o")) {
                assertEquals(List.of("above"), v.list("/" + d), d);
                assertFalse(v.listxattr("/" + d).stream().anyMatch(n -> n.contains("overlay")), d);
            }
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/t", "trusted.overlay.opaque")));
        }
    }

    @Test
    void rmdirThenMkdir_mergedDirectory_becomesOpaque() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "d/x", "x");
        try (UnionView v = open(s)) {
            v.unlink("/d/x");
            v.rmdir("/d");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/d")));
            v.mkdir("/d", 0755);
            assertEquals(List.of(), v.list("/d"));
            v.write("/d/y", bytes("y"));
            assertEquals(List.of("y"), v.list("/d"));
            assertEquals(Errno.EPERM, errno(() -> v.setxattr("/d", "trusted.overlay.opaque", bytes("n"))));
        }
        assertArrayEquals(bytes("y"), SYS.lgetxattr(s.upper.resolve("d").toString(), "trusted.overlay.opaque"));
    }

    @Test
    void mkdir_whereNothingWasBelow_isNotOpaque() throws Exception {
        Stack s = stack(1);
        s.dir(s.lower(0), "p");
        try (UnionView v = open(s)) {
            v.mkdir("/p/new", 0700);
            assertEquals(0700, v.stat("/p/new").permissions());
        }
        assertNull(SYS.lgetxattr(s.upper.resolve("p/new").toString(), "trusted.overlay.opaque"));
    }

    // ---- 4. readdir ---------------------------------------------------------------------------------
    @Test
    void readdir_mergedAcrossLayers_eachNameOnce() throws Exception {
        Stack s = stack(3);
        s.file(s.lower(0), "d/a", "0").file(s.lower(1), "d/a", "1").file(s.lower(1), "d/b", "1");
        s.file(s.lower(2), "d/b", "2").file(s.lower(2), "d/c", "2").file(s.lower(2), "d/gone", "2");
        s.whiteout(s.lower(1), "d/gone");
        s.file(s.upper, "d/e", "u");
        try (UnionView v = open(s)) {
            assertEquals(List.of("a", "b", "c", "e"), v.list("/d"));
        }
    }

    @Test
    void readdir_largeMergedDirectory_listsEveryName() throws Exception {
        Stack s = stack(2);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            Files.createFile(Files.createDirectories(s.lower(i % 2).resolve("big")).resolve("f" + i));
        }
        try (UnionView v = open(s)) {
            List<String> names = v.list("/big");
            assertEquals(n, names.size());
            assertEquals(n, new HashSet<>(names).size());
        }
    }

    // ---- 5. copy-up ---------------------------------------------------------------------------------
    @Test
    void copyUp_onWrite_keepsDataAndMetadata() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "a/b/f", "hello");
        Path f = s.lower(0).resolve("a/b/f");
        SYS.lchownat(Sys.AT_FDCWD, f.toString(), 1234, 5678);
        SYS.fchmodat(Sys.AT_FDCWD, f.toString(), 0640);
        SYS.lsetxattr(f.toString(), "user.note", bytes("kept"), 0);
        SYS.lsetxattr(f.toString(), "security.capability", capability(), 0);
        SYS.lutimensat(Sys.AT_FDCWD, f.toString(), 1_000_000_000L, 123_456_789L, 1_100_000_000L, 987_654_321L);
        Path b = s.lower(0).resolve("a/b");
        SYS.lchownat(Sys.AT_FDCWD, b.toString(), 42, 43);
        SYS.fchmodat(Sys.AT_FDCWD, b.toString(), 0710);
        try (UnionView v = open(s)) {
            Stat before = v.stat("/a/b/f");
            v.setxattr("/a/b/f", "user.other", bytes("1"));
            // checked before the write below: any write drops security.capability (the kernel's rule)
            assertArrayEquals(capability(), SYS.lgetxattr(s.upper.resolve("a/b/f").toString(), "security.capability"));
            v.append("/a/b/f", bytes(" world"));
            assertEquals("hello world", text(v.read("/a/b/f")));
            Stat after = v.stat("/a/b/f");
            assertEquals(before.ino, after.ino, "st_ino survives copy-up");
            assertEquals(1234, after.uid);
            assertEquals(5678, after.gid);
            assertEquals(0640, after.permissions());
            assertArrayEquals(bytes("kept"), v.getxattr("/a/b/f", "user.note"));
        }
        Stat up = hostStat(s.upper.resolve("a/b/f"));
        assertEquals(1234, up.uid);
        assertEquals(1_100_000_000L, SYS.lstat(Sys.AT_FDCWD, s.lower(0).resolve("a/b/f").toString()).mtimeSec);
        Stat dir = hostStat(s.upper.resolve("a/b"));
        assertEquals(42, dir.uid);
        assertEquals(43, dir.gid);
        assertEquals(0710, dir.permissions(), "parents are copied up with their own metadata");
        assertEquals(List.of(), listWork(s), "no leftovers in the workdir");
    }

    @Test
    void copyUp_onChmodAndUtimes_keepsNanosecondTimes() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "data");
        Path f = s.lower(0).resolve("f");
        SYS.lutimensat(Sys.AT_FDCWD, f.toString(), 1_000_000_000L, 111L, 1_200_000_000L, 222_333_444L);
        try (UnionView v = open(s)) {
            v.chmod("/f", 0600);
            Stat st = v.stat("/f");
            assertEquals(0600, st.permissions());
            assertEquals(1_200_000_000L, st.mtimeSec);
            assertEquals(222_333_444L, st.mtimeNsec);
            v.utimes("/f", 5L, 6L, 7L, 8L);
            st = v.stat("/f");
            assertEquals(7L, st.mtimeSec);
            assertEquals(8L, st.mtimeNsec);
            assertEquals("data", text(v.read("/f")));
        }
    }

    @Test
    void openTruncate_lowerFile_copiesNoData() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "big", "x".repeat(100_000));
        try (UnionView v = open(s)) {
            v.openTruncate("/big");
            assertEquals(0, v.stat("/big").size);
            assertEquals(0, text(v.read("/big")).length());
        }
        assertEquals(0, hostStat(s.upper.resolve("big")).size);
    }

    @Test
    void copyUp_sparseFile_staysSparse() throws Exception {
        Stack s = stack(1);
        Path f = s.lower(0).resolve("sparse");
        int fd = SYS.openat(Sys.AT_FDCWD, f.toString(), Sys.O_WRONLY | Sys.O_CREAT, 0644);
        SYS.pwrite(fd, bytes("end"), 3, 512L << 20);
        SYS.close(fd);
        try (UnionView v = open(s)) {
            v.writeAt("/sparse", 0, bytes("start"));
            assertEquals((512L << 20) + 3, v.stat("/sparse").size);
        }
        Stat up = hostStat(s.upper.resolve("sparse"));
        assertTrue(up.blocks * 512 < (1 << 20), "copy-up kept holes: " + up.blocks + " blocks");
    }

    @Test
    void copyUp_concurrentWriters_copyOnceAndLoseNothing() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "log", "");
        int threads = 16;
        try (UnionView v = open(s)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte[] line = bytes(String.format("line %02d%n", t));
                fs.add(pool.submit(() -> {
                    v.writeAt("/log", line.length * (long) Integer.parseInt(text(line).substring(5, 7)), line);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
            String content = text(v.read("/log"));
            for (int t = 0; t < threads; t++) {
                assertTrue(content.contains(String.format("line %02d", t)), content);
            }
            if (v instanceof EngineView) {
                assertEquals(1, ((EngineView) v).engine().copyUpCount());
            }
        }
    }

    // ---- 6. rename ----------------------------------------------------------------------------------
    @Test
    void rename_lowerFileAcrossDirectories_leavesWhiteoutAtSource() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "a/f", "F").dir(s.lower(0), "b").file(s.lower(0), "b/existing", "E");
        try (UnionView v = open(s)) {
            long ino = v.stat("/a/f").ino;
            v.rename("/a/f", "/b/existing");
            assertEquals("F", text(v.read("/b/existing")));
            assertEquals(ino, v.stat("/b/existing").ino);
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/a/f")));
            assertEquals(List.of(), v.list("/a"));
        }
        assertTrue(hostStat(s.upper.resolve("a/f")).isWhiteoutDevice());
    }

    @Test
    void rename_lowerDirectory_worksAsMvExpects() throws Exception {
        Stack s = stack(2);
        s.file(s.lower(1), "src/deep/x", "x").file(s.lower(0), "src/y", "y").file(s.lower(1), "src/hidden", "h");
        s.whiteout(s.lower(0), "src/hidden");
        s.file(s.lower(1), "dst/old", "o");
        s.whiteout(s.lower(0), "dst/old");
        try (UnionView v = open(s)) {
            v.rename("/src", "/dst");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/src")));
            assertEquals(List.of("deep", "y"), v.list("/dst"));
            assertEquals("x", text(v.read("/dst/deep/x")));
            v.mkdir("/src", 0755);
            assertEquals(List.of(), v.list("/src"), "the old name does not merge with its lower past");
        }
    }

    @Test
    void rename_directoryErrors_asPosixSays() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "d/x", "x").file(s.lower(0), "e/y", "y").file(s.lower(0), "f", "f");
        try (UnionView v = open(s)) {
            assertEquals(Errno.ENOTEMPTY, errno(() -> v.rename("/d", "/e")));
            assertEquals(Errno.ENOTDIR, errno(() -> v.rename("/d", "/f")));
            assertEquals(Errno.EISDIR, errno(() -> v.rename("/f", "/d")));
            assertEquals(Errno.EINVAL, errno(() -> v.rename("/d", "/d/sub")));
            v.unlink("/e/y");
            v.rename("/d", "/e");
            assertEquals(List.of("x"), v.list("/e"));
        }
    }

    // ---- 7. links, special files, xattrs -------------------------------------------------------------
    @Test
    void hardLinks_copyUpOfOneName_keepsOneInode() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "a", "shared");
        Files.createDirectories(s.lower(0).resolve("sub"));
        Files.createLink(s.lower(0).resolve("sub/b"), s.lower(0).resolve("a"));
        try (UnionView v = open(s)) {
            assertEquals(v.stat("/a").ino, v.stat("/sub/b").ino);
            v.append("/a", bytes("+more"));
            assertEquals("shared+more", text(v.read("/sub/b")));
            assertEquals(v.stat("/a").ino, v.stat("/sub/b").ino);
            assertEquals(2, v.stat("/a").nlink);
            v.link("/a", "/c");
            assertEquals(3, statOtherName(v, "/sub/b").nlink);
            v.unlink("/a");
            assertEquals(2, statOtherName(v, "/c").nlink);
            assertEquals("shared+more", text(v.read("/c")));
        }
    }

    // l0: a, d/b (one file, two names)     upper (as fuse-overlayfs left it): a = copy, origin "a"
    @Test
    void hardLinks_copyMadeByFuseOverlayfs_showsUnderEveryName() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "a", "old").dir(s.lower(0), "d");
        Files.createLink(s.lower(0).resolve("d/b"), s.lower(0).resolve("a"));
        s.file(s.upper, "a", "new");
        SYS.lsetxattr(s.upper.resolve("a").toString(), "user.fuseoverlayfs.origin", bytes("a"), 0);
        try (UnionView v = open(s)) {
            assertEquals("new", text(v.read("/d/b")));
            assertEquals(v.stat("/a").ino, v.stat("/d/b").ino);
            v.unlink("/d/b");
            assertEquals(Errno.ENOENT, errno(() -> v.stat("/d/b")));
            assertEquals("new", text(v.read("/a")), "removing the other name leaves the copy alone");
            assertEquals(List.of(), v.list("/d"));
        }
        assertTrue(hostStat(s.upper.resolve("d/b")).isWhiteoutDevice());
    }

    @Test
    void symlinks_readlinkLchownLutimes() throws Exception {
        Stack s = stack(1);
        Files.createDirectories(s.lower(0));
        Files.createSymbolicLink(s.lower(0).resolve("ln"), Path.of("target/path"));
        try (UnionView v = open(s)) {
            assertEquals("target/path", v.readlink("/ln"));
            v.chown("/ln", 77, 88);
            v.utimes("/ln", 10, 0, 20, 30);
            Stat st = v.stat("/ln");
            assertTrue(st.isSymlink());
            assertEquals(77, st.uid);
            assertEquals(20, st.mtimeSec);
            assertEquals(30, st.mtimeNsec);
            assertEquals("target/path", v.readlink("/ln"));
        }
    }

    @Test
    void mknod_fifoSocketDevice_asRoot() throws Exception {
        Stack s = stack(1);
        s.dir(s.lower(0), "dev");
        try (UnionView v = open(s)) {
            v.mknod("/dev/fifo", Stat.S_IFIFO | 0644, 0);
            v.mknod("/dev/sock", Stat.S_IFSOCK | 0755, 0);
            v.mknod("/dev/null2", Stat.S_IFCHR | 0666, (1 << 8) | 3);
            assertEquals(Stat.S_IFIFO, v.stat("/dev/fifo").type());
            assertEquals(Stat.S_IFSOCK, v.stat("/dev/sock").type());
            Stat d = v.stat("/dev/null2");
            assertEquals(Stat.S_IFCHR, d.type());
            assertEquals((1 << 8) | 3, d.rdev);
            v.link("/dev/fifo", "/dev/fifo2");
            assertEquals(2, statOtherName(v, "/dev/fifo").nlink);
            assertEquals(2, v.stat("/dev/fifo2").nlink);
        }
    }

    @Test
    void xattrs_setGetListRemove_privateOnesHidden() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "x");
        SYS.lsetxattr(s.lower(0).resolve("f").toString(), "trusted.overlay.origin", bytes("secret"), 0);
        try (UnionView v = open(s)) {
            assertEquals(List.of(), v.listxattr("/f"));
            v.setxattr("/f", "user.a", bytes("1"));
            v.setxattr("/f", "trusted.b", bytes("2"));
            assertArrayEquals(bytes("1"), v.getxattr("/f", "user.a"));
            assertEquals(Set.of("user.a", "trusted.b"), new HashSet<>(v.listxattr("/f")));
            v.removexattr("/f", "user.a");
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/f", "user.a")));
            assertEquals(Errno.EPERM, errno(() -> v.setxattr("/f", "user.overlay.opaque", bytes("y"))));
            assertEquals(Errno.ENODATA, errno(() -> v.getxattr("/f", "trusted.overlay.origin")));
        }
    }

    @Test
    void truncate_andAppend_onLowerFile() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "0123456789");
        try (UnionView v = open(s)) {
            v.truncate("/f", 4);
            assertEquals("0123", text(v.read("/f")));
            v.append("/f", bytes("xy"));
            assertEquals("0123xy", text(v.read("/f")));
            v.truncate("/f", 8);
            assertArrayEquals(bytes("0123xy\0\0"), v.read("/f"));
        }
    }

    @Test
    void statfs_reportsTheUppersFilesystem() throws Exception {
        Stack s = stack(1);
        s.dir(s.lower(0), "d");
        int fd = SYS.openat(Sys.AT_FDCWD, s.upper.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        long[] upper;
        try {
            upper = SYS.fstatvfs(fd);
        } finally {
            SYS.close(fd);
        }
        try (UnionView v = open(s)) {
            long[] st = v.statfs();
            assertEquals(upper[1], st[1], "f_frsize");
            assertEquals(upper[2], st[2], "f_blocks");
        }
    }

    @Test
    void fallocateAndFsync_onLowerFile_extendAfterCopyUp() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "abc");
        try (UnionView v = open(s)) {
            v.fallocateAndSync("/f", 0, 8192);
            assertEquals(8192, v.stat("/f").size);
            assertEquals("abc", text(v.read("/f")).substring(0, 3));
        }
        assertEquals(3, Files.size(s.lower(0).resolve("f")));
    }

    // ---- 8. inode numbers ---------------------------------------------------------------------------
    @Test
    void inodeNumbers_uniqueAndStable() throws Exception {
        Stack s = stack(2);
        for (int i = 0; i < 50; i++) {
            s.file(s.lower(i % 2), "d/f" + i, "x");
        }
        try (UnionView v = open(s)) {
            Set<Long> seen = new HashSet<>();
            List<Long> before = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                long ino = v.stat("/d/f" + i).ino;
                assertTrue(seen.add(ino), "duplicate st_ino " + ino);
                before.add(ino);
            }
            for (int i = 0; i < 50; i += 5) {
                v.append("/d/f" + i, bytes("y"));
            }
            v.write("/d/new", bytes("n"));
            assertTrue(seen.add(v.stat("/d/new").ino));
            for (int i = 0; i < 50; i++) {
                assertEquals(before.get(i), v.stat("/d/f" + i).ino);
            }
        }
    }

    // ---- 9. read-only -------------------------------------------------------------------------------
    @Test
    void readOnly_noUpper_everyChangeIsErofs() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "f", "x");
        try (UnionView v = open(s, true)) {
            assertEquals("x", text(v.read("/f")));
            assertEquals(Errno.EROFS, errno(() -> v.write("/f", bytes("y"))));
            assertEquals(Errno.EROFS, errno(() -> v.unlink("/f")));
            assertEquals(Errno.EROFS, errno(() -> v.mkdir("/d", 0755)));
            assertEquals(Errno.EROFS, errno(() -> v.chmod("/f", 0600)));
        }
    }

    // ---- 11. POSIX edge cases -----------------------------------------------------------------------
    @Test
    void names_tooLong_enametoolong_andDeepPathsWork() throws Exception {
        Stack s = stack(1);
        s.dir(s.lower(0), "d");
        try (UnionView v = open(s)) {
            assertEquals(Errno.ENAMETOOLONG, errno(() -> v.write("/d/" + "n".repeat(256), bytes("x"))));
            v.write("/d/" + "n".repeat(255), bytes("x"));
            StringBuilder p = new StringBuilder("/d");
            while (p.length() < 3800) {
                p.append('/').append("c".repeat(200));
                v.mkdir(p.toString(), 0755);
            }
            v.write(p + "/leaf", bytes("deep"));
            assertEquals("deep", text(v.read(p + "/leaf")));
        }
    }

    /**
     * Layers deep in the host's tree: a path near PATH_MAX inside the union is longer than PATH_MAX
     * on the host. Everything is relative to the layers' directory descriptors, so nothing leaks.
     */
    @Test
    void deepPaths_longerThanPathMaxOnTheHost_work() throws Exception {
        Path deepBase = tmp.resolve("d".repeat(200)).resolve("e".repeat(200)).resolve("stack");
        Stack s = new Stack(Stack.mkdirs(deepBase), 1);
        s.mountpoint = tmp.resolve("m");
        s.dir(s.lower(0), "d");
        StringBuilder lowerPath = new StringBuilder("d");
        while (lowerPath.length() < 3500) {
            lowerPath.append('/').append("l".repeat(200));
        }
        int fd = SYS.openat(Sys.AT_FDCWD, s.lower(0).toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        try {
            String[] parts = lowerPath.toString().split("/");
            String at = parts[0];
            for (int i = 1; i < parts.length; i++) {
                at = at + "/" + parts[i];
                SYS.mkdirat(fd, at, 0755);
            }
            int f = SYS.openat(fd, at + "/lower-file", Sys.O_WRONLY | Sys.O_CREAT, 0644);
            SYS.pwrite(f, bytes("low"), 3, 0);
            SYS.close(f);
            SYS.lsetxattrAt(fd, at, "trusted.overlay.opaque", bytes("y"), 0);
        } finally {
            SYS.close(fd);
        }
        try (UnionView v = open(s)) {
            String p = "/" + lowerPath;
            assertEquals("low", text(v.read(p + "/lower-file")));
            v.setxattr(p + "/lower-file", "user.deep", bytes("1"));
            assertArrayEquals(bytes("1"), v.getxattr(p + "/lower-file", "user.deep"));
            assertEquals(List.of("lower-file"), v.list(p));
            String q = p;
            while (q.length() < 4000) {
                q = q + "/" + "n".repeat(Math.min(200, 4040 - q.length()));
                v.mkdir(q, 0755);
            }
            v.write(q + "/f", bytes("deep"));
            v.setxattr(q + "/f", "user.x", bytes("y"));
            assertEquals("deep", text(v.read(q + "/f")));
            v.unlink(p + "/lower-file");
            assertEquals(List.of("n".repeat(200)), v.list(p));
        } finally {
            // JUnit's @TempDir cannot delete paths longer than PATH_MAX; rm(1) can
            new ProcessBuilder("rm", "-rf", tmp.resolve("d".repeat(200)).toString()).start().waitFor();
        }
    }

    @Test
    void rmdir_nonEmptyMerged_enotempty_andRootBusy() throws Exception {
        Stack s = stack(1);
        s.file(s.lower(0), "d/x", "x");
        try (UnionView v = open(s)) {
            assertEquals(Errno.ENOTEMPTY, errno(() -> v.rmdir("/d")));
            assertEquals(Errno.ENOTDIR, errno(() -> v.rmdir("/d/x")));
            assertEquals(Errno.EISDIR, errno(() -> v.unlink("/d")));
            assertEquals(Errno.EEXIST, errno(() -> v.mkdir("/d", 0755)));
        }
    }

    /**
     * stat of one name of a hard-linked file after a change made through another name. libfuse 2's
     * path-based API gives every name its own kernel inode, whose cached attributes (nlink) lag
     * until attr_timeout (1 s) passes; data is never stale (direct I/O for such files).
     */
    private Stat statOtherName(UnionView v, String path) throws Exception {
        if (isMount()) {
            Thread.sleep(1100);
        }
        return v.stat(path);
    }

    private static List<String> listWork(Stack s) throws Exception {
        try (Stream<Path> st = Files.list(s.work.resolve("work"))) {
            return st.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A valid VFS_CAP_REVISION_2 security.capability value granting cap_net_raw. */
    static byte[] capability() {
        byte[] v = new byte[20];
        v[3] = 0x02; // revision 2, little-endian magic_etc = 0x02000000
        v[4 + 1] = 0x20; // permitted bit 13 (CAP_NET_RAW)
        return v;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static void assertDifferent(long a, long b) {
        assertNotEquals(a, b);
    }
}
