package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.layerfs.contract.LayerfsMount;
import io.layerfs.contract.MountView;
import io.layerfs.contract.Stack;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.Mounts;

/**
 * The /dev/fuse binding without OPEN and RELEASE requests ({@link NodeFiles}): the server opens a
 * node's layer file at its first READ or WRITE, keeps a bounded number open, and keeps a file
 * reachable when its last name goes while a process may hold it open. Real mounts, root needed.
 */
class NoOpenMountTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private MountView mount(Stack s, String... options) throws Exception {
        return LayerfsMount.mount(s.config(), s.mountpoint, FuseMount.Binding.DEV_FUSE, List.of(options));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String content(int i) {
        return ("file " + i + " ").repeat(700);
    }

    private static void dropCaches() throws IOException {
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");
    }

    private static String readAll(int fd, int size) throws Exception {
        byte[] buf = new byte[size];
        byte[] chunk = new byte[size];
        int done = 0;
        while (done < size) {
            int n = SYS.pread(fd, chunk, size - done, done);
            if (n == 0) {
                break;
            }
            System.arraycopy(chunk, 0, buf, done, n);
            done += n;
        }
        return new String(buf, 0, done, StandardCharsets.UTF_8);
    }

    /** Descriptors this JVM (the server) has open on files under dir. */
    private static long descriptorsUnder(Path dir) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(dir);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    /**
     * 200 files held open by this process and read, with room for 16 in the server: every read
     * gets its own file's data, again after the page cache is dropped (the server opens the
     * files it closed again), while the server keeps at most 16 of them open.
     */
    @Test
    void moreOpenFilesThanTheBudget_eachReadsItsOwnData_theServerKeepsFewOpen() throws Exception {
        Stack s = new Stack(tmp, 1);
        int count = 200;
        for (int i = 0; i < count; i++) {
            s.file(s.lower(0), "f" + i, content(i));
        }
        try (MountView v = mount(s, "open_files=16")) {
            int[] fds = new int[count];
            try {
                for (int i = 0; i < count; i++) {
                    fds[i] = SYS.openat(Sys.AT_FDCWD, v.host("/f" + i), Sys.O_RDONLY, 0);
                }
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < count; i++) {
                        assertEquals(content(i), readAll(fds[i], content(i).length()), "round " + round + ", f" + i);
                    }
                    long open = descriptorsUnder(s.lower(0));
                    assertTrue(open > 0 && open <= 16, open + " lower files open in the server");
                    dropCaches();
                }
            } finally {
                for (int fd : fds) {
                    if (fd > 0) {
                        SYS.close(fd);
                    }
                }
            }
        }
    }

    /**
     * Readers of 100 lower files and a writer appending to 100 others (each first append copies
     * the file up, on a thread of its own, and each fsync runs there too), with room for 8 files
     * in the server and the page cache dropped over and over: every read gets its file's data,
     * and every file written holds exactly what was appended.
     */
    @Test
    void readersAndAWriter_underASmallBudget_readAndWriteTheirOwnFiles() throws Exception {
        Stack s = new Stack(tmp, 1);
        int count = 100;
        for (int i = 0; i < 2 * count; i++) {
            s.file(s.lower(0), "f" + i, content(i));
        }
        try (MountView v = mount(s, "open_files=8")) {
            long until = System.nanoTime() + 3_000_000_000L;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            StringBuilder[] expected = new StringBuilder[count];
            for (int i = 0; i < count; i++) {
                expected[i] = new StringBuilder(content(count + i));
            }
            Thread reader = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(1);
                try {
                    while (System.nanoTime() < until) {
                        int i = r.nextInt(count);
                        assertEquals(content(i), new String(v.read("/f" + i), StandardCharsets.UTF_8), "f" + i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Thread writer = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(2);
                try {
                    for (int n = 0; System.nanoTime() < until; n++) {
                        int i = r.nextInt(count);
                        String line = "line " + n + "\n";
                        int fd = SYS.openat(Sys.AT_FDCWD, v.host("/f" + (count + i)), Sys.O_WRONLY | Sys.O_APPEND, 0);
                        try {
                            byte[] b = bytes(line);
                            SYS.pwrite(fd, b, b.length, 0); // O_APPEND: at the end whatever the offset
                            SYS.fsync(fd, false);
                        } finally {
                            SYS.close(fd);
                        }
                        expected[i].append(line);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            reader.start();
            writer.start();
            while (System.nanoTime() < until && failure.get() == null) {
                dropCaches();
                Thread.sleep(50);
            }
            reader.join();
            writer.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            dropCaches();
            for (int i = 0; i < count; i++) {
                assertEquals(expected[i].toString(), new String(v.read("/f" + (count + i)), StandardCharsets.UTF_8),
                        "f" + (count + i));
            }
        }
    }

    /**
     * A file open but not yet read when another file is renamed over its name: its reads come
     * after the name is gone, and must get its own data, for a lower and for an upper file, with
     * and without OPEN requests.
     */
    @ParameterizedTest
    @ValueSource(strings = {"no_open=1", "no_open=0"})
    void openedNotYetRead_thenRenamedOver_readsItsOwnData(String option) throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "low", "lower-old");
        try (MountView v = mount(s, option)) {
            v.write("/up", bytes("upper-old"));
            dropCaches();
            int low = SYS.openat(Sys.AT_FDCWD, v.host("/low"), Sys.O_RDONLY, 0);
            int up = SYS.openat(Sys.AT_FDCWD, v.host("/up"), Sys.O_RDONLY, 0);
            try {
                v.write("/n1", bytes("new-one"));
                v.rename("/n1", "/low");
                v.write("/n2", bytes("new-two"));
                v.rename("/n2", "/up");
                assertEquals("lower-old", readAll(low, 9));
                assertEquals("upper-old", readAll(up, 9));
                assertEquals(0, SYS.fstat(low).nlink);
                assertEquals(0, SYS.fstat(up).nlink);
                assertEquals("new-one", new String(v.read("/low"), StandardCharsets.UTF_8));
                assertEquals("new-two", new String(v.read("/up"), StandardCharsets.UTF_8));
            } finally {
                SYS.close(low);
                SYS.close(up);
            }
        }
    }

    /**
     * A lower file opened read-write, unlinked, then written: the write must not reach the lower
     * layer. It goes to an unnamed copy, which the open file reads back, as kernel overlayfs's
     * copy-up at open would give; the union shows no name for it. Also with the lower layer on a
     * file system of its own (a tmpfs), where copy_file_range into the workdir fails with EXDEV.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lowerFileOpenedForWriting_unlinked_thenWritten_writesAnUnnamedCopy(boolean lowerOnItsOwnTmpfs)
            throws Exception {
        Stack s = new Stack(tmp, 1);
        if (lowerOnItsOwnTmpfs) {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "tmpfs", s.lower(0).toString()).inheritIO().start();
            assertEquals(0, p.waitFor());
        }
        try {
            s.file(s.lower(0), "f", "lowerdata");
            writeThroughAnUnlinkedLowerFile(s);
        } finally {
            if (lowerOnItsOwnTmpfs) {
                Mounts.unmount(s.lower(0));
            }
        }
    }

    private void writeThroughAnUnlinkedLowerFile(Stack s) throws Exception {
        try (MountView v = mount(s)) {
            int fd = SYS.openat(Sys.AT_FDCWD, v.host("/f"), Sys.O_RDWR, 0);
            try {
                v.unlink("/f");
                SYS.pwrite(fd, bytes("LOWER"), 5, 0);
                SYS.fsync(fd, false);
                dropCaches();
                assertEquals("LOWERdata", readAll(fd, 9));
                assertEquals(9, SYS.fstat(fd).size);
            } finally {
                SYS.close(fd);
            }
            assertEquals("lowerdata", Files.readString(s.lower(0).resolve("f")));
            assertFalse(v.list("/").contains("f"));
            Stat whiteout = SYS.lstat(Sys.AT_FDCWD, s.upper.resolve("f").toString());
            assertTrue(whiteout.isWhiteoutDevice());
        }
    }

    /**
     * A lower file opened read-only, then unlinked: fstat and fsync through the open file work,
     * and its data reads back. (The write cache's ctime after the unlink once failed with ENOENT,
     * which the kernel then reported at the fsync.)
     */
    @Test
    void lowerFileOpenedReadOnly_unlinked_fstatFsyncAndReadWork() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "f", "lowerdata");
        try (MountView v = mount(s)) {
            int fd = SYS.openat(Sys.AT_FDCWD, v.host("/f"), Sys.O_RDONLY, 0);
            try {
                v.unlink("/f");
                Stat st = SYS.fstat(fd);
                assertEquals(0, st.nlink);
                assertEquals(9, st.size);
                SYS.fsync(fd, false);
                assertEquals("lowerdata", readAll(fd, 9));
            } finally {
                SYS.close(fd);
            }
            assertEquals("lowerdata", Files.readString(s.lower(0).resolve("f")));
        }
    }

    /**
     * Without OPEN requests a lower file is copied up by its first write, not by an open for
     * writing: an open and close without a write leaves the upper layer as it was. A write, a
     * truncating open and a write through the kernel's cache each copy it up.
     */
    @Test
    void openForWritingWithoutWrite_copiesNothingUp_aWriteOrTruncateDoes() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "a", "aaaa");
        s.file(s.lower(0), "b", "bbbb");
        s.file(s.lower(0), "c", "cccc");
        try (MountView v = mount(s)) {
            SYS.close(SYS.openat(Sys.AT_FDCWD, v.host("/a"), Sys.O_RDWR, 0));
            assertFalse(Files.exists(s.upper.resolve("a")));

            v.writeAt("/b", 1, bytes("X"));
            assertEquals("bXbb", Files.readString(s.upper.resolve("b")));

            v.openTruncate("/c");
            assertEquals(0, Files.size(s.upper.resolve("c")));
            assertEquals(0, v.stat("/c").size);
            assertArrayEquals(bytes("aaaa"), v.read("/a"));
        }
    }
}
