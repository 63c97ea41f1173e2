package io.layerfs.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system-call layer against the real kernel, checked through java.nio where Java can see the
 * result: what each call returns, the errno of a failure, and that paths arrive byte for byte (UTF-8,
 * long relative paths, no silent cut at an embedded NUL).
 */
class SysTest {
    private final Sys sys = Sys.get();
    @TempDir
    Path dir;
    private int dirfd;

    @BeforeEach
    void open() throws SysException {
        dirfd = sys.openat(Sys.AT_FDCWD, dir.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
    }

    @AfterEach
    void close() {
        sys.close(dirfd);
    }

    private static int errnoOf(Executable call) {
        return assertThrows(SysException.class, call::run).errno();
    }

    @FunctionalInterface
    private interface Executable {
        void run() throws Exception;
    }

    @Test
    void lstatReportsWhatTheFileSystemHolds() throws Exception {
        Path f = dir.resolve("f");
        Files.write(f, new byte[12345]);
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_600_000_000_123L));
        Map<String, Object> nio = Files.readAttributes(f, "unix:*", java.nio.file.LinkOption.NOFOLLOW_LINKS);

        Stat st = sys.lstat(dirfd, "f");
        assertEquals(12345, st.size);
        assertEquals(((Number) nio.get("ino")).longValue(), st.ino);
        assertEquals(((Number) nio.get("dev")).longValue(), st.dev);
        assertEquals(((Number) nio.get("mode")).intValue(), st.mode);
        assertEquals(((Number) nio.get("uid")).intValue(), st.uid);
        assertEquals(((Number) nio.get("gid")).intValue(), st.gid);
        assertEquals(1, st.nlink);
        assertEquals(1_600_000_000L, st.mtimeSec);
        assertEquals(123_000_000L, st.mtimeNsec);
        assertTrue(st.blocks > 0 || st.size == 0);

        int fd = sys.openat(dirfd, "f", Sys.O_RDONLY, 0);
        try {
            Stat viaFd = sys.fstat(fd);
            assertEquals(st.ino, viaFd.ino);
            assertEquals(st.size, viaFd.size);
        } finally {
            sys.close(fd);
        }
    }

    @Test
    void failuresCarryTheKernelsErrno() throws Exception {
        assertEquals(Errno.ENOENT, errnoOf(() -> sys.lstat(dirfd, "missing")));
        assertNull(sys.lstatOrNull(dirfd, "missing"));
        Files.write(dir.resolve("file"), new byte[0]);
        assertNull(sys.lstatOrNull(dirfd, "file/below")); // ENOTDIR on the way
        assertEquals(Errno.EEXIST, errnoOf(() -> sys.openat(dirfd, "file", Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0644)));
        assertEquals(Errno.ENOTEMPTY, errnoOf(() -> {
            sys.mkdirat(dirfd, "d", 0755);
            sys.mkdirat(dirfd, "d/e", 0755);
            sys.unlinkat(dirfd, "d", Sys.AT_REMOVEDIR);
        }));
        assertEquals(Errno.EBADF, errnoOf(() -> sys.fstat(-1)));
        SysException e = assertThrows(SysException.class, () -> sys.lstat(dirfd, "missing"));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void namesArriveByteForByte() throws Exception {
        String name = "caf\u00e9 \u65e5\u672c \ud83d\ude00";
        int fd = sys.openat(dirfd, name, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0600);
        sys.close(fd);
        assertTrue(Files.exists(dir.resolve(name)));
        assertEquals(List.of(name), sys.listDir(dirfd, ".").stream().map(e -> e.name).collect(Collectors.toList()));

        // a relative path longer than the stack copy in the C layer (1 KiB) takes its heap copy
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            deep.append(i == 0 ? "" : "/").append("x".repeat(100));
            sys.mkdirat(dirfd, deep.toString(), 0755);
        }
        assertTrue(deep.length() > 2000);
        String leaf = deep + "/leaf";
        sys.close(sys.openat(dirfd, leaf, Sys.O_WRONLY | Sys.O_CREAT, 0644));
        assertEquals(0, sys.lstat(dirfd, leaf).size);
        assertTrue(Files.exists(dir.resolve(leaf)));

        // a NUL inside a name is refused, not cut short to "file"
        sys.close(sys.openat(dirfd, "file", Sys.O_WRONLY | Sys.O_CREAT, 0644));
        assertEquals(Errno.EINVAL, errnoOf(() -> sys.lstat(dirfd, "file\0tail")));
        assertEquals(Errno.EINVAL, errnoOf(() -> sys.unlinkat(dirfd, "file\0tail", 0)));
        assertTrue(Files.exists(dir.resolve("file")));
    }

    @Test
    void readsAndWritesThroughArraysAndNativeMemory() throws Exception {
        int fd = sys.openat(dirfd, "data", Sys.O_RDWR | Sys.O_CREAT, 0644);
        try {
            byte[] hello = "hello, layers".getBytes(StandardCharsets.US_ASCII);
            assertEquals(hello.length, sys.pwrite(fd, hello, hello.length, 100));
            byte[] back = new byte[64];
            assertEquals(hello.length, sys.pread(fd, back, back.length, 100));
            assertArrayEquals(hello, java.util.Arrays.copyOf(back, hello.length));
            assertEquals(0, sys.pread(fd, back, back.length, 5000)); // end of file

            ByteBuffer direct = ByteBuffer.allocateDirect(4096);
            long address = Sys.addressOf(direct);
            assertNotEquals(0, address);
            direct.put(0, (byte) 'Z').put(1, (byte) 'q');
            assertEquals(2, sys.pwrite(fd, address, 2, 0));
            direct.put(0, (byte) 0).put(1, (byte) 0);
            assertEquals(100 + hello.length, sys.pread(fd, address, 4096, 0)); // the whole file
            assertEquals('Z', direct.get(0));
            assertEquals('q', direct.get(1));
            assertEquals('h', direct.get(100));

            sys.ftruncate(fd, 1 << 20);
            assertEquals(1 << 20, sys.fstat(fd).size);
            assertEquals(0, sys.lseek(fd, 0, Sys.SEEK_DATA));
            assertEquals(-1, sys.lseek(fd, (1 << 20) + 1, Sys.SEEK_DATA)); // ENXIO past the end
            sys.fsync(fd, true);
            sys.fsync(fd, false);
            sys.syncfs(fd);
        } finally {
            sys.close(fd);
        }
        assertThrows(IllegalArgumentException.class, () -> Sys.addressOf(ByteBuffer.allocate(8)));
    }

    @Test
    void copyFileRangeCopiesAtTheGivenOffsets() throws Exception {
        Files.write(dir.resolve("src"), "0123456789".getBytes(StandardCharsets.US_ASCII));
        int in = sys.openat(dirfd, "src", Sys.O_RDONLY, 0);
        int out = sys.openat(dirfd, "dst", Sys.O_WRONLY | Sys.O_CREAT, 0644);
        try {
            assertEquals(4, sys.copyFileRange(in, 3, out, 2, 4));
        } finally {
            sys.close(in);
            sys.close(out);
        }
        assertArrayEquals(new byte[] {0, 0, '3', '4', '5', '6'}, Files.readAllBytes(dir.resolve("dst")));
    }

    @Test
    void namespaceCalls() throws Exception {
        sys.symlinkat("target/of/link", dirfd, "ln");
        assertEquals("target/of/link", sys.readlinkat(dirfd, "ln"));
        assertEquals(Stat.S_IFLNK, sys.lstat(dirfd, "ln").mode & Stat.S_IFMT);

        sys.close(sys.openat(dirfd, "a", Sys.O_WRONLY | Sys.O_CREAT, 0644));
        sys.close(sys.openat(dirfd, "b", Sys.O_WRONLY | Sys.O_CREAT, 0600));
        long inoA = sys.lstat(dirfd, "a").ino;
        assertEquals(Errno.EEXIST, errnoOf(() -> sys.renameat2(dirfd, "a", dirfd, "b", Sys.RENAME_NOREPLACE)));
        sys.renameat2(dirfd, "a", dirfd, "b", Sys.RENAME_EXCHANGE);
        assertEquals(inoA, sys.lstat(dirfd, "b").ino);

        sys.linkat(dirfd, "b", dirfd, "b2");
        assertEquals(2, sys.lstat(dirfd, "b2").nlink);

        sys.mknodat(dirfd, "wh", Stat.S_IFCHR | 0, 0); // an overlayfs whiteout: char device 0/0
        Stat wh = sys.lstat(dirfd, "wh");
        assertEquals(Stat.S_IFCHR, wh.mode & Stat.S_IFMT);
        assertEquals(0, wh.rdev);

        sys.fchmodat(dirfd, "b", 0640);
        assertEquals(0640, sys.lstat(dirfd, "b").mode & 07777);
        sys.lutimensat(dirfd, "b", 1000, 5, 2000, 7);
        Stat b = sys.lstat(dirfd, "b");
        assertEquals(1000, b.atimeSec);
        assertEquals(5, b.atimeNsec);
        assertEquals(2000, b.mtimeSec);
        assertEquals(7, b.mtimeNsec);
        assertTrue(sys.faccessat(dirfd, "b", 0));
        assertFalse(sys.faccessat(dirfd, "nothing", 0));

        assertEquals(new TreeSet<>(List.of("a", "b", "b2", "ln", "wh")), // an exchange keeps both names
                sys.listDir(dirfd, ".").stream().map(e -> e.name).collect(Collectors.toCollection(TreeSet::new)));
        sys.unlinkat(dirfd, "b2", 0);
        assertFalse(Files.exists(dir.resolve("b2")));
    }

    @Test
    void listDirReadsLargeDirectoriesInSeveralCalls() throws Exception {
        sys.mkdirat(dirfd, "big", 0755);
        int n = 3000; // more than one 64 KiB getdents64 buffer of 40-byte names
        for (int i = 0; i < n; i++) {
            sys.close(sys.openat(dirfd, "big/" + "n".repeat(30) + i, Sys.O_WRONLY | Sys.O_CREAT, 0644));
        }
        List<DirEntry> entries = sys.listDir(dirfd, "big");
        assertEquals(n, entries.size());
        assertEquals(n, entries.stream().map(e -> e.name).distinct().count());
        assertTrue(entries.stream().allMatch(e -> e.name.startsWith("nnn") && e.ino != 0));
    }

    @Test
    void extendedAttributes() throws Exception {
        sys.close(sys.openat(dirfd, "x", Sys.O_WRONLY | Sys.O_CREAT, 0644));
        byte[] big = new byte[3000]; // larger than the first 256-byte try: the size is asked for
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        sys.lsetxattrAt(dirfd, "x", "user.big", big, 0);
        sys.lsetxattrAt(dirfd, "x", "user.small", new byte[] {1, 2}, Sys.XATTR_CREATE);
        assertEquals(Errno.EEXIST, errnoOf(() -> sys.lsetxattrAt(dirfd, "x", "user.small", new byte[0], Sys.XATTR_CREATE)));
        assertArrayEquals(big, sys.lgetxattrAt(dirfd, "x", "user.big"));
        assertNull(sys.lgetxattrAt(dirfd, "x", "user.none"));
        assertEquals(new TreeSet<>(List.of("user.big", "user.small")), new TreeSet<>(sys.llistxattrAt(dirfd, "x")));

        int fd = sys.openat(dirfd, "x", Sys.O_RDONLY, 0);
        try {
            assertArrayEquals(new byte[] {1, 2}, sys.fgetxattr(fd, "user.small"));
            sys.fsetxattr(fd, "user.viafd", "v".getBytes(StandardCharsets.US_ASCII), 0);
            assertTrue(sys.flistxattr(fd).contains("user.viafd"));
        } finally {
            sys.close(fd);
        }
        sys.lremovexattrAt(dirfd, "x", "user.big");
        assertNull(sys.lgetxattrAt(dirfd, "x", "user.big"));
        assertEquals(Errno.ENODATA, errnoOf(() -> sys.lremovexattrAt(dirfd, "x", "user.big")));
    }

    @Test
    void locksAndIdentity() throws Exception {
        sys.close(sys.openat(dirfd, "lock", Sys.O_WRONLY | Sys.O_CREAT, 0644));
        int one = sys.openat(dirfd, "lock", Sys.O_RDONLY, 0);
        int two = sys.openat(dirfd, "lock", Sys.O_RDONLY, 0);
        try {
            assertTrue(sys.tryLock(one));
            assertFalse(sys.tryLock(two)); // flock locks belong to the open file, not the process
            sys.flock(one, Sys.LOCK_UN);
            assertTrue(sys.tryLock(two));
            assertFalse(sys.isatty(one));
            long[] vfs = sys.fstatvfs(one);
            assertEquals(11, vfs.length);
            assertEquals(255, vfs[10]); // f_namemax
        } finally {
            sys.close(one);
            sys.close(two);
        }
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assertEquals(uid, sys.geteuid());
        int old = sys.umask(027);
        assertEquals(027, sys.umask(old));
    }
}
