package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.fuse.FuseMount;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.MountTests;

/**
 * On a real mount, a copy-up stopped in its data phase (by {@link CopyUp}'s progress hook) holds up
 * no other request: names never looked up before, a read, an append to an upper file and a listing
 * all reach the server and are answered meanwhile.
 * <pre>
 *   upper/   up "u"
 *   lower 0/ big (2 chunks and a bit), small "s", small2 "s2"
 * </pre>
 */
class CopyUpOutsideLockMountTest {
    private static final Sys SYS = Sys.get();
    /** A hang guard for steps that take milliseconds, not a timing. */
    private static final long STUCK_SECONDS = 60;

    @TempDir
    Path tmp;

    @Test
    void copyUp_stoppedInDataPhase_otherRequestsAnswered_devFuse() throws Exception {
        stoppedCopyUp(FuseMount.Binding.DEV_FUSE);
    }

    @Test
    void copyUp_stoppedInDataPhase_otherRequestsAnswered_jnrFuse() throws Exception {
        stoppedCopyUp(FuseMount.Binding.JNR_FUSE);
    }

    private void stoppedCopyUp(FuseMount.Binding binding) throws Exception {
        MountTests.requireFuse();
        Stack s = new Stack(tmp, 1);
        byte[] big = new byte[(int) (2 * CopyUp.CHUNK + 777)];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 7 + (i >>> 11));
        }
        s.file(s.upper, "up", "u").file(s.lower(0), "small", "s").file(s.lower(0), "small2", "s2");
        Files.write(s.lower(0).resolve("big"), big);
        byte[] expected = Arrays.copyOf(big, big.length + 1);
        expected[big.length] = 'x';
        Files.createDirectories(s.mountpoint);
        CountDownLatch midCopy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean stopped = new AtomicBoolean();
        ExecutorService pool = Executors.newCachedThreadPool();
        try (UnionFs fs = UnionFs.open(s.config())) {
            fs.copyUpProgress((rel, offset) -> {
                if (stopped.compareAndSet(false, true)) {
                    midCopy.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            try (FuseMount m = FuseMount.mount(fs, s.mountpoint, List.of(), false, binding)) {
                Path mnt = s.mountpoint;
                try {
                    Future<?> a = pool.submit(() -> {
                        append(mnt.resolve("big"), "x");
                        return null;
                    });
                    while (!midCopy.await(10, TimeUnit.MILLISECONDS)) {
                        if (a.isDone()) {
                            a.get();
                            fail("the copy-up ended without reporting progress");
                        }
                    }
                    Future<?> b = pool.submit(() -> {
                        assertEquals(1, Files.size(mnt.resolve("small")));
                        assertEquals("s2", Files.readString(mnt.resolve("small2")));
                        append(mnt.resolve("up"), "pper");
                        assertEquals("upper", Files.readString(mnt.resolve("up")));
                        try (Stream<Path> names = Files.list(mnt)) {
                            assertEquals(4, names.count());
                        }
                        return null;
                    });
                    try {
                        b.get(STUCK_SECONDS, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        fail("a request waited for a copy-up of another file: " + e);
                    }
                    release.countDown();
                    a.get();
                } finally {
                    release.countDown();
                }
                assertArrayEquals(expected, Files.readAllBytes(mnt.resolve("big")));
                assertEquals(1, fs.copyUpCount());
            }
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(expected, Files.readAllBytes(s.upper.resolve("big")));
        try (Stream<Path> left = Files.list(s.work.resolve(WorkDir.SUBDIR))) {
            assertEquals(0, left.count(), "nothing left in the workdir");
        }
    }

    private static void append(Path p, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int fd = SYS.openat(Sys.AT_FDCWD, p.toString(), Sys.O_WRONLY | Sys.O_APPEND, 0);
        try {
            assertEquals(b.length, SYS.pwrite(fd, b, b.length, 0));
        } finally {
            SYS.close(fd);
        }
    }
}
