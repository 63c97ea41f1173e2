package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.EngineView;
import io.layerfs.contract.Stack;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * A copy-up moves a file's data holding no lock of the union ({@link UnionFs#prepareCopyUp}): a
 * progress hook in {@link CopyUp} stops a copy after its first chunk, and the test does other
 * things meanwhile, then lets it finish.
 * <pre>
 *   upper/   up "u"
 *   lower 0/ big (3 chunks and a bit), small "s", dir/other "o", dir/big (as big)
 * </pre>
 */
class CopyUpOutsideLockTest {
    /** How long a step that takes microseconds may take before the test calls it stuck (a hang guard). */
    private static final long STUCK_SECONDS = 60;

    @TempDir
    Path tmp;

    private Stack s;
    private byte[] big;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    /** Opened when a copy first reports progress; the copy then waits for release. */
    private final CountDownLatch midCopy = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean stopped = new AtomicBoolean();
    /** Chunks reported for "big" (any directory). */
    private final AtomicInteger chunks = new AtomicInteger();

    @BeforeEach
    void layers() throws Exception {
        s = new Stack(tmp, 1);
        big = new byte[(int) (3 * CopyUp.CHUNK + 12345)];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31 + (i >>> 13));
        }
        s.file(s.upper, "up", "u").file(s.lower(0), "small", "s").file(s.lower(0), "dir/other", "o");
        Files.write(s.lower(0).resolve("big"), big);
        Files.write(s.lower(0).resolve("dir/big"), big);
    }

    @AfterEach
    void stop() {
        release.countDown();
        pool.shutdownNow();
    }

    private UnionFs open() throws Exception {
        UnionFs fs = UnionFs.open(s.config());
        fs.copyUpProgress((rel, offset) -> {
            if (rel.endsWith("big")) {
                chunks.incrementAndGet();
            }
            if (stopped.compareAndSet(false, true)) {
                midCopy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return fs;
    }

    @Test
    void copyUp_stoppedInDataPhase_lookupsReadsAndChangesElsewhereComplete() throws Exception {
        try (UnionFs fs = open()) {
            EngineView v = new EngineView(fs);
            long bigIno = fs.getattr("/big").ino;
            Future<?> a = pool.submit(() -> {
                v.writeAt("/big", big.length, bytes("x"));
                return null;
            });
            awaitMidCopy(a);

            Future<?> b = pool.submit(() -> {
                assertEquals(1, fs.getattr("/small").size);
                assertEquals("s", text(v.read("/small")));
                assertEquals("o", text(v.read("/dir/other")));
                assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/missing")));
                assertEquals(big.length, fs.getattr("/big").size, "the lower file until the copy is placed");
                v.append("/up", bytes("pper"));
                assertEquals("upper", text(v.read("/up")));
                v.write("/new", bytes("n")); // a new name takes the write lock
                assertEquals(List.of("big", "dir", "new", "small", "up"), sorted(v.list("/")));
                return null;
            });
            finishWhileStopped(b);

            release.countDown();
            a.get();
            byte[] expected = Arrays.copyOf(big, big.length + 1);
            expected[big.length] = 'x';
            assertArrayEquals(expected, v.read("/big"));
            assertArrayEquals(expected, Files.readAllBytes(s.upper.resolve("big")));
            assertEquals(bigIno, fs.getattr("/big").ino);
            assertEquals(1, fs.copyUpCount());
            assertEquals(List.of(), workdir());
        }
    }

    @Test
    void copyUp_sameFileFromTwoThreads_copiedOnceBothWritesOnWholeData() throws Exception {
        try (UnionFs fs = open()) {
            EngineView v = new EngineView(fs);
            Future<?> a = pool.submit(() -> {
                v.writeAt("/big", big.length, bytes("A"));
                return null;
            });
            awaitMidCopy(a);
            Thread[] second = new Thread[1];
            Future<?> b = pool.submit(() -> {
                second[0] = Thread.currentThread();
                fs.chmod("/big", 0600);
                v.writeAt("/big", big.length + 1, bytes("B"));
                return null;
            });
            awaitWaiting(second, b);

            release.countDown();
            a.get();
            b.get();
            byte[] expected = Arrays.copyOf(big, big.length + 2);
            expected[big.length] = 'A';
            expected[big.length + 1] = 'B';
            assertArrayEquals(expected, v.read("/big"));
            assertEquals(0600, fs.getattr("/big").permissions());
            assertEquals(1, fs.copyUpCount());
            assertEquals(4, chunks.get(), "one copy of 4 chunks: the second request did not copy");
            assertEquals(List.of(), workdir());
        }
    }

    @Test
    void copyUp_nameRemovedDuringCopy_stayRemovedNoTempLeft() throws Exception {
        try (UnionFs fs = open()) {
            EngineView v = new EngineView(fs);
            Future<?> a = pool.submit(() -> {
                fs.chmod("/big", 0600);
                return null;
            });
            awaitMidCopy(a);
            finishWhileStopped(pool.submit(() -> {
                fs.unlink("/big");
                return null;
            }));

            release.countDown();
            assertEquals(Errno.ENOENT, errno(() -> get(a)), "the chmod came after the unlink");
            assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/big")));
            assertFalse(v.list("/").contains("big"));
            assertTrue(hostStat(s.upper.resolve("big")).isWhiteoutDevice());
            assertEquals(0, fs.copyUpCount());
            assertEquals(List.of(), workdir());
        }
    }

    @Test
    void copyUp_nameReplacedDuringCopy_changeGoesToTheNewFileNoTempLeft() throws Exception {
        try (UnionFs fs = open()) {
            EngineView v = new EngineView(fs);
            Future<?> a = pool.submit(() -> {
                fs.chmod("/big", 0600);
                return null;
            });
            awaitMidCopy(a);
            finishWhileStopped(pool.submit(() -> {
                fs.rename("/up", "/big");
                return null;
            }));

            release.countDown();
            a.get();
            assertEquals("u", text(v.read("/big")));
            assertEquals(0600, fs.getattr("/big").permissions());
            assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/up")));
            assertEquals(0, fs.copyUpCount());
            assertEquals(List.of(), workdir());
        }
    }

    @Test
    void copyUp_parentRenamedDuringCopy_copyDroppedRenamedTreeWhole() throws Exception {
        try (UnionFs fs = open()) {
            EngineView v = new EngineView(fs);
            Future<?> a = pool.submit(() -> {
                fs.chmod("/dir/big", 0600);
                return null;
            });
            awaitMidCopy(a);
            // the rename copies the directory's tree up under the write lock, dir/big with it
            finishWhileStopped(pool.submit(() -> {
                fs.rename("/dir", "/moved");
                return null;
            }));

            release.countDown();
            assertEquals(Errno.ENOENT, errno(() -> get(a)), "the chmod came after the rename");
            assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/dir/big")));
            assertArrayEquals(big, v.read("/moved/big"));
            assertEquals(0644, fs.getattr("/moved/big").permissions());
            assertEquals(List.of("big", "other"), sorted(v.list("/moved")));
            assertEquals(List.of(), workdir());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** Waits until a copy has stopped in its data phase (or fails if task ended without one). */
    private void awaitMidCopy(Future<?> task) throws Exception {
        while (!midCopy.await(10, TimeUnit.MILLISECONDS)) {
            if (task.isDone()) {
                task.get();
                fail("the copy-up ended without reporting progress");
            }
        }
    }

    /** Runs task to its end while a copy is stopped; stuck behind the copy is a failure, not a hang. */
    private void finishWhileStopped(Future<?> task) throws Exception {
        try {
            task.get(STUCK_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            release.countDown();
            fail("a request waited for a copy-up of another file: " + e);
        }
    }

    /** Waits until the thread of task (recorded in holder) blocks: behind the copy it must not repeat. */
    private static void awaitWaiting(Thread[] holder, Future<?> task) throws Exception {
        for (int i = 0; i < STUCK_SECONDS * 1000; i++) {
            Thread t = holder[0];
            if (task.isDone()) {
                task.get();
                fail("the second copy-up finished while the first was stopped");
            }
            if (t != null && t.getState() == Thread.State.WAITING) {
                return;
            }
            Thread.sleep(1);
        }
        fail("the second request never blocked");
    }

    private static List<String> sorted(List<String> names) {
        List<String> copy = new ArrayList<>(names);
        copy.sort(null);
        return copy;
    }

    /** What the workdir holds but the shared whiteout, which stays while mounted. */
    private List<String> workdir() throws Exception {
        try (Stream<Path> files = Files.list(s.work.resolve(WorkDir.SUBDIR))) {
            List<String> names = new ArrayList<>();
            files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(WorkDir.SHARED_WHITEOUT_PREFIX))
                    .forEach(names::add);
            return names;
        }
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    private static void get(Future<?> f) throws Exception {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    private static int errno(Call c) throws Exception {
        try {
            c.run();
        } catch (SysException e) {
            return e.errno();
        }
        return 0;
    }

    private static Stat hostStat(Path p) throws SysException {
        return Sys.get().lstat(Sys.AT_FDCWD, p.toString());
    }

    private static byte[] bytes(String t) {
        return t.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
