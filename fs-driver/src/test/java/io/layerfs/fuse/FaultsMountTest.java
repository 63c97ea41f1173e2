package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.MountTests;
import io.layerfs.testkit.Mounts;
import io.layerfs.union.Trace;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * Promises 1 and 7 of the README under faults a server survives: a full upper (ENOSPC), many
 * writers on one lower file, unmounting with files open. Served in this JVM over FUSE.
 * <pre>
 *   lower/big        4 MiB          lower/d/      a directory
 *   lower/f, lower/g small files    lower/log     "start\n"
 *   small/           tmpfs (size=8m, nr_inodes=64) holding upper/ and work/ (ENOSPC tests only)
 * </pre>
 */
class FaultsMountTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private Path lower;
    private Path upper;
    private Path work;
    private Path mnt;
    private Path tmpfs;
    private final AtomicInteger copyUps = new AtomicInteger();
    private final List<String> copiedPaths = java.util.Collections.synchronizedList(new ArrayList<>());
    private UnionFs fs;
    private FuseMount fuse;

    @BeforeEach
    void layers() throws Exception {
        MountTests.requireFuse();
        lower = Files.createDirectory(tmp.resolve("lower"));
        byte[] big = new byte[4 << 20];
        new java.util.Random(6).nextBytes(big);
        Files.write(lower.resolve("big"), big);
        Files.writeString(lower.resolve("f"), "lower f");
        Files.writeString(lower.resolve("g"), "lower g");
        Files.createDirectory(lower.resolve("d"));
        Files.writeString(lower.resolve("log"), "start\n");
        mnt = Files.createDirectory(tmp.resolve("mnt"));
    }

    @AfterEach
    void unmount() throws Exception {
        if (fuse != null) {
            fuse.close();
        }
        if (fs != null) {
            fs.close();
        }
        if (tmpfs != null && Mounts.isMounted(tmpfs)) {
            Mounts.unmount(tmpfs);
        }
    }

    private void layersOnDisk() throws IOException {
        upper = Files.createDirectory(tmp.resolve("upper"));
        work = Files.createDirectory(tmp.resolve("work"));
    }

    private void layersOnSmallTmpfs() throws Exception {
        tmpfs = Files.createDirectory(tmp.resolve("small"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m,nr_inodes=64", "tmpfs", tmpfs.toString())
                .inheritIO().start();
        assertEquals(0, p.waitFor());
        upper = Files.createDirectory(tmpfs.resolve("upper"));
        work = Files.createDirectory(tmpfs.resolve("work"));
    }

    private void mount() throws Exception {
        fs = UnionFs.open(new UnionConfig(List.of(lower), upper, work), new Trace() {
            @Override
            public void copyUp(String path, String fromLayer, String type, long bytes, String method) {
                copyUps.incrementAndGet();
                copiedPaths.add(path);
            }
        });
        fuse = FuseMount.mount(fs, mnt, List.of(), false);
    }

    private String m(String rel) {
        return mnt + "/" + rel;
    }

    /** The errno of op, 0 if it succeeded. */
    private static int errnoOf(SysCall op) {
        try {
            op.run();
            return 0;
        } catch (SysException e) {
            return e.errno();
        }
    }

    interface SysCall {
        void run() throws SysException;
    }

    private static List<String> names(Path dir) throws SysException {
        List<String> out = new ArrayList<>();
        for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, dir.toString())) {
            out.add(d.name);
        }
        out.sort(null);
        return out;
    }

    /** Writes data at offset 0 of an existing file and fsyncs it: the fsync reports a failed writeback. */
    private static void writeAndSync(String path, byte[] data) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, path, Sys.O_WRONLY, 0);
        try {
            SYS.pwrite(fd, data, data.length, 0);
            SYS.fsync(fd, false);
        } finally {
            SYS.close(fd);
        }
    }

    private void write(String rel, byte[] data) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, m(rel), Sys.O_WRONLY | Sys.O_CREAT | Sys.O_TRUNC, 0644);
        try {
            int done = 0;
            while (done < data.length) {
                byte[] rest = java.util.Arrays.copyOfRange(data, done, data.length);
                done += SYS.pwrite(fd, rest, rest.length, done);
            }
        } finally {
            SYS.close(fd);
        }
    }

    /** Creates empty files through the mount until the upper has no inode left; returns their names. */
    private List<String> exhaustInodes() {
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String name = "inode-" + i;
            int e = errnoOf(() -> SYS.close(SYS.openat(Sys.AT_FDCWD, m(name), Sys.O_WRONLY | Sys.O_CREAT, 0644)));
            if (e == Errno.ENOSPC) {
                return made;
            }
            assertEquals(0, e, "create " + name);
            made.add(name);
        }
        throw new AssertionError("the upper never ran out of inodes");
    }

    @Test
    void fullUpper_copyUpMkdirWhiteoutRename_failWithEnospc_leaveNothing_andSucceedOnceFreed() throws Exception {
        layersOnSmallTmpfs();
        mount();
        // no room for the data: a 5 MiB filler leaves less than the 4 MiB copy needs. The copy-up
        // comes with the first write, which the kernel's write cache sends at the latest at fsync
        // or close: that is where ENOSPC shows (the kernel sends no OPEN for the server to fail)
        write("filler", new byte[5 << 20]);
        byte[] first = {Files.readAllBytes(lower.resolve("big"))[0]};
        assertEquals(Errno.ENOSPC, errnoOf(() -> writeAndSync(m("big"), first)));
        assertEquals(List.of("filler"), names(upper), "no partial copy in the upper");
        assertEquals(List.of(), names(work.resolve("work")), "no temp file left in the workdir");
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1"); // a failed writeback leaves its pages cached
        assertArrayEquals(Files.readAllBytes(lower.resolve("big")), Files.readAllBytes(Path.of(m("big"))));
        SYS.unlinkat(Sys.AT_FDCWD, m("filler"), 0);
        writeAndSync(m("big"), first);
        assertArrayEquals(Files.readAllBytes(lower.resolve("big")), Files.readAllBytes(upper.resolve("big")));

        // no inode left: mkdir, whiteout (unlink of a lower file) and rename of a lower file
        List<String> fillers = exhaustInodes();
        Set<String> before = new HashSet<>(names(upper));
        assertEquals(Errno.ENOSPC, errnoOf(() -> SYS.mkdirat(Sys.AT_FDCWD, m("newdir"), 0755)));
        assertEquals(Errno.ENOSPC, errnoOf(() -> SYS.unlinkat(Sys.AT_FDCWD, m("f"), 0)));
        assertEquals(Errno.ENOSPC, errnoOf(() -> SYS.unlinkat(Sys.AT_FDCWD, m("d"), Sys.AT_REMOVEDIR)));
        assertEquals(Errno.ENOSPC, errnoOf(() -> SYS.renameat2(Sys.AT_FDCWD, m("g"), Sys.AT_FDCWD, m("h"), 0)));
        assertEquals(before, new HashSet<>(names(upper)), "nothing partial in the upper");
        assertEquals(List.of(), names(work.resolve("work")));
        assertEquals("lower f", Files.readString(Path.of(m("f"))));
        assertEquals("lower g", Files.readString(Path.of(m("g"))));
        assertTrue(Files.isDirectory(Path.of(m("d"))));
        assertFalse(Files.exists(Path.of(m("h"))));

        // one inode free: an operation that needs two (a copy and a whiteout) fails whole or succeeds whole
        SYS.unlinkat(Sys.AT_FDCWD, m(fillers.remove(fillers.size() - 1)), 0);
        int renamed = errnoOf(() -> SYS.renameat2(Sys.AT_FDCWD, m("g"), Sys.AT_FDCWD, m("h"), 0));
        assertTrue(renamed == 0 || renamed == Errno.ENOSPC, Errno.name(renamed));
        assertEquals(renamed == 0, !Files.exists(Path.of(m("g"))), "g gone exactly when the rename succeeded");
        assertEquals(renamed == 0, Files.exists(Path.of(m("h"))), "h there exactly when the rename succeeded");
        assertEquals(List.of(), names(work.resolve("work")));

        for (String f : fillers) {
            SYS.unlinkat(Sys.AT_FDCWD, m(f), 0);
        }
        SYS.mkdirat(Sys.AT_FDCWD, m("newdir"), 0755);
        SYS.unlinkat(Sys.AT_FDCWD, m("f"), 0);
        SYS.unlinkat(Sys.AT_FDCWD, m("d"), Sys.AT_REMOVEDIR);
        if (renamed != 0) {
            SYS.renameat2(Sys.AT_FDCWD, m("g"), Sys.AT_FDCWD, m("h"), 0);
        }
        assertEquals(List.of("big", "h", "log", "newdir"), names(mnt));
        assertEquals("lower g", Files.readString(Path.of(m("h"))));
        List<String> left = names(work.resolve("work"));
        left.removeIf(n -> n.startsWith("#lfs-whiteout")); // the shared whiteout, kept while mounted
        assertEquals(List.of(), left);
    }

    @Test
    void sixteenWriters_appendToOneLowerFile_everyWriteThere_oneCopyUp() throws Exception {
        layersOnDisk();
        mount();
        int writers = 16;
        int records = 200;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    start.await();
                    int fd = SYS.openat(Sys.AT_FDCWD, m("log"), Sys.O_WRONLY | Sys.O_APPEND, 0);
                    try {
                        for (int r = 0; r < records; r++) {
                            byte[] line = String.format("w%02d r%04d\n", writer, r).getBytes(StandardCharsets.US_ASCII);
                            assertEquals(line.length, SYS.pwrite(fd, line, line.length, 0));
                        }
                    } finally {
                        SYS.close(fd);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        List<String> lines = Files.readAllLines(Path.of(m("log")));
        assertEquals("start", lines.get(0), "the lower content stays first");
        Set<String> seen = new HashSet<>(lines.subList(1, lines.size()));
        assertEquals(writers * records, lines.size() - 1, "one line per write");
        assertEquals(writers * records, seen.size(), "every write once");
        for (int w = 0; w < writers; w++) {
            for (int r = 0; r < records; r++) {
                assertTrue(seen.contains(String.format("w%02d r%04d", w, r)));
            }
        }
        assertEquals(List.of("/log"), copiedPaths, "exactly one copy-up");
        assertEquals(Files.readAllLines(upper.resolve("log")), lines);
    }

    @Test
    void unmount_withFileOpen_isEbusy_lazyUnmountServesTheOpenFileUntilItsLastClose() throws Exception {
        layersOnDisk();
        mount();
        int fd = SYS.openat(Sys.AT_FDCWD, m("f"), Sys.O_RDWR, 0);
        try {
            assertEquals(Errno.EBUSY, errnoOf(() -> SYS.umount2(mnt.toString(), 0)));
            assertTrue(Mounts.isMounted(mnt));

            SYS.umount2(mnt.toString(), Sys.MNT_DETACH);

            assertFalse(Mounts.isMounted(mnt), "detached from the tree at once");
            assertTrue(fuse.isMounted(), "still served for the open file");
            byte[] buf = new byte[7];
            assertEquals(7, SYS.pread(fd, buf, 7, 0));
            assertEquals("lower f", new String(buf, StandardCharsets.US_ASCII));
            byte[] more = "+more".getBytes(StandardCharsets.US_ASCII);
            assertEquals(5, SYS.pwrite(fd, more, 5, 7));
        } finally {
            SYS.close(fd);
        }
        // the last close releases the mount; the kernel then ends the connection and the loop returns
        Thread waiter = new Thread(() -> {
            try {
                fuse.awaitUnmount();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiter.start();
        waiter.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(fuse.isMounted(), "the server ended after the last close");
        assertEquals("lower f+more", Files.readString(upper.resolve("f")));
    }
}
