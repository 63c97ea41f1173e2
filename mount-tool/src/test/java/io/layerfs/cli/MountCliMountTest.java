package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Sys;

/**
 * {@code layerfs mount} and {@code umount} for real: background server, foreground, signals.
 * Needs root and /dev/fuse, which CI has; {@code -Dlayerfs.mountTests=false} skips them on a laptop.
 * <pre>
 *   lower/a         "from lower"
 *   upper/ work/    empty
 *   merged/         mount point
 * </pre>
 */
class MountCliMountTest {
    @TempDir
    Path dir;

    private Path merged;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void gate() {
        assumeTrue(Boolean.getBoolean("layerfs.mountTests"), "layerfs.mountTests is false");
    }

    @BeforeEach
    void layers() throws IOException {
        dir = dir.toRealPath();
        Files.writeString(Files.createDirectory(dir.resolve("lower")).resolve("a"), "from lower");
        Files.createDirectory(dir.resolve("upper"));
        Files.createDirectory(dir.resolve("work"));
        merged = Files.createDirectory(dir.resolve("merged"));
    }

    @AfterEach
    void unmountLeftovers() throws Exception {
        if (isMounted()) {
            new ProcessBuilder("umount", "-l", merged.toString()).inheritIO().start().waitFor();
        }
    }

    private int run(String... args) {
        return Main.run(args, LinuxHost.INSTANCE, dir, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private boolean isMounted() throws IOException {
        return LinuxHost.INSTANCE.mountTable().find(merged).isPresent();
    }

    private int mountInBackground() {
        return run("mount", "-o", "lowerdir=lower,upperdir=upper,workdir=work", "merged");
    }

    @Test
    void mount_background_servesAfterReturning_umountWaitsForTheServer() throws Exception {
        // As podman calls its mount program: no subcommand, relative paths, stray commas, a no-op option.
        assertEquals(0, run("-o", "lowerdir=lower,,upperdir=upper,workdir=work,volatile", "merged"), err.toString());

        assertEquals("fuse.layerfs", LinuxHost.INSTANCE.mountTable().find(merged).orElseThrow().fsType());
        assertEquals("from lower", Files.readString(merged.resolve("a")));
        Files.writeString(merged.resolve("b"), "new");
        assertEquals("new", Files.readString(dir.resolve("upper/b")));
        ProcessHandle server = BackgroundLauncher.findServer(merged).orElseThrow();
        assertEquals(String.valueOf(server.pid()), sessionOf(server), "server is not a session leader (setsid)");
        Path log = dir.resolve("work/layerfs.log");
        assertTrue(Files.readString(log).contains("serving " + merged));
        // dup2, not just System.setErr: native writers such as libfuse follow too.
        assertEquals(log, Files.readSymbolicLink(Path.of("/proc/" + server.pid() + "/fd/2")));
        assertEquals(log, Files.readSymbolicLink(Path.of("/proc/" + server.pid() + "/fd/1")));
        assertEquals("", out.toString());

        assertEquals(0, run("umount", "merged"), err.toString());

        assertFalse(isMounted());
        assertFalse(server.isAlive());
    }

    @Test
    void mount_onAMountedDirectory_isBusy_andLeavesTheFirstMountAlone() throws Exception {
        assertEquals(0, mountInBackground(), err.toString());

        assertEquals(ExitCode.BAD_MOUNTPOINT.code, mountInBackground());

        assertTrue(err.toString().contains("is busy"), err.toString());
        assertEquals("from lower", Files.readString(merged.resolve("a")));
        assertEquals(0, run("umount", "merged"), err.toString());
    }

    @Test
    void server_sigterm_unmountsCleanly() throws Exception {
        assertEquals(0, mountInBackground(), err.toString());
        ProcessHandle server = BackgroundLauncher.findServer(merged).orElseThrow();

        assertTrue(server.destroy(), "SIGTERM not sent");

        server.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(isMounted());
        assertEquals(ExitCode.NOT_MOUNTED.code, run("umount", "merged"));
    }

    @Test
    void mount_failureInTheServer_isRelayed_andNothingStaysMounted() throws Exception {
        // Preflight passes; the background server finds the workdir locked by someone else (as by
        // another mount of it) and refuses to open the layers.
        Sys sys = Sys.get();
        int lock = sys.openat(Sys.AT_FDCWD, dir.resolve("work").toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        try {
            assertTrue(sys.tryLock(lock));
            assertEquals(ExitCode.FAILURE.code, mountInBackground());
        } finally {
            sys.close(lock);
        }

        assertTrue(err.toString().lines().anyMatch(l -> l.startsWith("layerfs: ") && l.contains("work")), err.toString());
        assertFalse(isMounted());
        assertTrue(BackgroundLauncher.findServer(merged).isEmpty());
    }

    @Test
    void mount_badOptionValue_isAUsageError_beforeAnyServerStarts() throws Exception {
        assertEquals(ExitCode.USAGE.code,
                run("mount", "-o", "lowerdir=lower,upperdir=upper,workdir=work,entry_timeout=bogus", "merged"));

        assertEquals("layerfs: option entry_timeout=bogus: not a number of seconds", err.toString().lines().findFirst().orElse(""));
        assertFalse(isMounted());
        assertTrue(BackgroundLauncher.findServer(merged).isEmpty());
    }

    @Test
    void mount_foreground_returnsWhenUnmounted() throws Exception {
        CompletableFuture<Integer> foreground = CompletableFuture.supplyAsync(
                () -> run("mount", "--foreground", "--lower", "lower", "merged"));
        for (int i = 0; i < 300 && !isMounted(); i++) {
            Thread.sleep(100);
        }
        assertTrue(isMounted(), err.toString());
        assertEquals(List.of("a"), List.of(merged.toFile().list()));

        assertEquals(0, run("umount", "merged"), err.toString());

        assertEquals(0, foreground.get(30, TimeUnit.SECONDS));
        assertFalse(isMounted());
    }

    /** Field 6 of /proc/PID/stat, after the parenthesized command name. */
    private static String sessionOf(ProcessHandle p) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return fields[3];
    }
}
