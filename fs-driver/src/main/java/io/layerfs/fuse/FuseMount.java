package io.layerfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.UnionFs;

/**
 * A live FUSE mount of a {@link UnionFs}. {@link #mount} returns once the kernel has completed
 * FUSE_INIT, so the mount is usable; libfuse's loop runs on a thread of its own (and spawns its
 * worker threads: the union is served multi-threaded).
 *
 * <p>Two bindings serve the mount ({@link Binding}): the kernel protocol spoken directly over
 * /dev/fuse ({@link DevFuseSession}, the default) and libfuse 2's path API through jnr-fuse
 * ({@link FuseAdapter}, LAYERFS_FUSE_BINDING=jnr, described below).
 *
 * <p>FUSE options and why: {@code default_permissions} lets the kernel check permissions against
 * the modes we report, as overlayfs does; {@code allow_other} (when root) lets container processes
 * of any uid in; {@code use_ino} shows our stable inode numbers instead of libfuse's;
 * no {@code hard_remove}: libfuse renames a file unlinked while open to ".fuse_hidden...", which
 * the engine detaches from the union, so fstat of the open file keeps working; {@code big_writes} and {@code max_write} lift the 4 KiB write size of libfuse 2.
 */
public final class FuseMount implements AutoCloseable {
    private static final long INIT_TIMEOUT_SECONDS = 30;

    private final Path mountpoint;
    private final Thread loop;
    private final CompletableFuture<Integer> exit;
    private volatile boolean closed;

    private FuseMount(Path mountpoint, Thread loop, CompletableFuture<Integer> exit) {
        this.mountpoint = mountpoint;
        this.loop = loop;
        this.exit = exit;
    }

    /** How requests reach the engine; see {@link #mount(UnionFs, Path, List, boolean, Binding)}. */
    public enum Binding {
        /** libfuse 2's high-level (path) API through jnr-fuse: LAYERFS_FUSE_BINDING=jnr. */
        JNR_FUSE,
        /** The kernel's FUSE protocol spoken directly over /dev/fuse ({@link DevFuseSession}): the default. */
        DEV_FUSE;

        /** LAYERFS_FUSE_BINDING=jnr selects JNR_FUSE; unset, empty or "devfuse" the default, DEV_FUSE. */
        public static Binding fromEnvironment() {
            String v = System.getenv("LAYERFS_FUSE_BINDING");
            if (v == null || v.isBlank() || "devfuse".equalsIgnoreCase(v.trim())) {
                return DEV_FUSE;
            }
            if ("jnr".equalsIgnoreCase(v.trim()) || "jnr-fuse".equalsIgnoreCase(v.trim())) {
                return JNR_FUSE;
            }
            throw new IllegalArgumentException("LAYERFS_FUSE_BINDING=" + v + ": expected devfuse or jnr");
        }
    }

    /**
     * Checks the values of the "-o" options a mount would take (timeouts, open_files, no_open,
     * writeback, the numeric libfuse ones): throws IllegalArgumentException naming the first bad
     * one, before anything is mounted.
     */
    public static void checkOptions(List<String> extraOptions) {
        DevFuseOptions.parse(extraOptions, false);
    }

    /** Mounts with the binding LAYERFS_FUSE_BINDING selects (/dev/fuse by default). */
    public static FuseMount mount(UnionFs fs, Path mountpoint, List<String> extraOptions, boolean debug)
            throws IOException {
        Binding binding;
        try {
            binding = Binding.fromEnvironment();
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        return mount(fs, mountpoint, extraOptions, debug, binding);
    }

    /**
     * Mounts fs at mountpoint with the given binding; returns once the kernel has completed
     * FUSE_INIT. extraOptions are libfuse "-o" options; the /dev/fuse binding takes only the
     * timeouts and mount flags from them ({@link DevFuseOptions}); debug prints each request.
     */
    public static FuseMount mount(UnionFs fs, Path mountpoint, List<String> extraOptions, boolean debug,
                                  Binding binding) throws IOException {
        Path mnt = mountpoint.toAbsolutePath().normalize();
        if (binding == Binding.DEV_FUSE) {
            return mountDevFuse(fs, mnt, extraOptions, debug);
        }
        if (!Files.isDirectory(mnt)) {
            throw new IOException("mountpoint " + mnt + " is not a directory");
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new IOException("/dev/fuse is missing: load the fuse module (modprobe fuse)");
        }
        Sys sys = Sys.get();
        // libfuse keeps open-but-unlinked files alive under ".fuse_hidden..." names: the engine
        // takes those out of the union instead of storing them in the upper
        fs.detachNamesStartingWith(".fuse_hidden");
        // objects are created with exactly the modes the kernel asks for (it applied the umask)
        sys.umask(0);
        List<String> opts = new ArrayList<>();
        opts.add("fsname=layerfs");
        opts.add("subtype=layerfs");
        opts.add("default_permissions");
        opts.add("use_ino");
        // libfuse 2 alone refuses a mount point that is not empty; the kernel, overlayfs and libfuse 3
        // (fuse-overlayfs) do not, and podman may reuse a merged directory
        opts.add("nonempty");
        opts.add("kernel_cache");
        opts.add("big_writes");
        opts.add("max_write=131072");
        // names, present or absent, change only through this mount, and the kernel updates its
        // dentries on every such change: long entry and negative timeouts are safe. Attributes keep
        // libfuse's 1 s: a hard-linked file's other names are other kernel inodes under the path API.
        opts.add("entry_timeout=" + NAME_TIMEOUT_SECONDS);
        opts.add("negative_timeout=" + NAME_TIMEOUT_SECONDS);
        if (sys.geteuid() == 0) {
            opts.add("allow_other");
        }
        if (fs.readOnly()) {
            opts.add("ro");
        }
        for (String o : extraOptions) {
            if (!DevFuseOptions.devFuseOnlyOption(o)) {
                opts.add(o);
            }
        }
        List<String> args = new ArrayList<>(List.of("layerfs", "-f"));
        if (debug) {
            args.add("-d");
        }
        args.add("-o");
        args.add(String.join(",", opts));
        args.add(mnt.toString());

        CompletableFuture<Void> ready = new CompletableFuture<>();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        FuseAdapter adapter = new FuseAdapter(fs, () -> ready.complete(null));
        String[] argv = args.toArray(new String[0]);
        int javaThreads = javaLoopThreads();
        Thread loop = new Thread(() -> {
            try {
                exit.complete(javaThreads > 0 ? adapter.runJavaLoop(argv, javaThreads) : adapter.runLoop(argv));
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            } finally {
                ready.completeExceptionally(new IOException("FUSE loop ended before the mount was ready"));
            }
        }, "layerfs-fuse-loop");
        loop.setDaemon(true);
        loop.start();
        try {
            CompletableFuture.anyOf(ready, exit).get(INIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IOException("mount of " + mnt + " not ready after " + INIT_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while mounting " + mnt);
        } catch (ExecutionException e) {
            throw new IOException("mount of " + mnt + " failed: " + e.getCause().getMessage());
        }
        if (!ready.isDone() || ready.isCompletedExceptionally()) {
            Integer code = exit.getNow(null);
            throw new IOException("mount of " + mnt + " failed (libfuse exit status " + code
                    + "; is it already a mount point, or is libfuse2 missing?)");
        }
        return new FuseMount(mnt, loop, exit);
    }

    /** How long the kernel may trust a looked-up name or a lookup miss (one day). */
    private static final int NAME_TIMEOUT_SECONDS = 86_400;

    private static FuseMount mountDevFuse(UnionFs fs, Path mnt, List<String> extraOptions, boolean debug)
            throws IOException {
        if (!Files.isDirectory(mnt)) {
            throw new IOException("mountpoint " + mnt + " is not a directory");
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new IOException("/dev/fuse is missing: load the fuse module (modprobe fuse)");
        }
        // objects are created with exactly the modes the kernel asks for (it applied the umask)
        Sys.get().umask(0);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        int threads = javaLoopThreads();
        DevFuseSession session = DevFuseSession.mount(fs, mnt, extraOptions, devFuseReaders(),
                threads == 0 ? DEFAULT_THREADS : threads, debug ? System.err : null, () -> ready.complete(null));
        Thread loop = new Thread(() -> {
            try {
                session.serve();
                exit.complete(0);
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            } finally {
                ready.completeExceptionally(new IOException("FUSE session ended before the mount was ready"));
            }
        }, "layerfs-devfuse-session");
        loop.setDaemon(true);
        loop.start();
        try {
            ready.get(INIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            detach(mnt);
            throw new IOException("mount of " + mnt + " not ready after " + INIT_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            detach(mnt);
            throw new IOException("interrupted while mounting " + mnt);
        } catch (ExecutionException e) {
            detach(mnt);
            throw new IOException("mount of " + mnt + " failed: " + e.getCause().getMessage());
        }
        String readahead = Readahead.raise(mnt, DevFuseOps.MAX_READ / 1024);
        if (debug) {
            System.err.println("   " + readahead);
        }
        return new FuseMount(mnt, loop, exit);
    }

    private static void detach(Path mnt) {
        try {
            Sys.get().umount2(mnt.toString(), Sys.MNT_DETACH);
        } catch (SysException ignored) {
            // not mounted (any more): nothing to undo
        }
    }

    /** Java threads serving requests unless LAYERFS_FUSE_THREADS says otherwise. */
    private static final int DEFAULT_THREADS = 4;

    /**
     * The request loop runs on Java threads, each receiving and processing requests itself: with
     * libfuse's own loop every request attaches a native thread to the JVM and detaches it again
     * (measured: warm stat of 2,000 files 0.66 s → 0.29 s, the differential suite 65 s → 31 s).
     * LAYERFS_FUSE_THREADS=N sets how many (1-64); 0 falls back to libfuse's own loop.
     */
    private static int javaLoopThreads() {
        String v = System.getenv("LAYERFS_FUSE_THREADS");
        if (v == null || v.isBlank()) {
            return DEFAULT_THREADS;
        }
        try {
            return Math.max(0, Math.min(64, Integer.parseInt(v.trim())));
        } catch (NumberFormatException e) {
            return DEFAULT_THREADS;
        }
    }

    /**
     * Threads reading /dev/fuse (the /dev/fuse binding): LAYERFS_FUSE_READERS=N (1-64), 1 unless
     * set; LAYERFS_FUSE_THREADS is then the number of threads for requests that may take long.
     */
    private static int devFuseReaders() {
        String v = System.getenv("LAYERFS_FUSE_READERS");
        if (v == null || v.isBlank()) {
            return 1;
        }
        try {
            return Math.max(1, Math.min(64, Integer.parseInt(v.trim())));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    public Path mountpoint() {
        return mountpoint;
    }

    /** Blocks until the file system is unmounted (umount, fusermount -u, or close()). */
    public void awaitUnmount() throws InterruptedException {
        loop.join();
    }

    public boolean isMounted() {
        return loop.isAlive();
    }

    /** Unmounts (if still mounted) and waits for the FUSE loop to end. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (loop.isAlive()) {
            try {
                Sys.get().umount2(mountpoint.toString(), 0);
            } catch (SysException e) {
                if (e.errno() != Errno.EINVAL) {
                    // busy: detach now, the kernel finishes when the last user is gone
                    try {
                        Sys.get().umount2(mountpoint.toString(), Sys.MNT_DETACH);
                    } catch (SysException ignored) {
                        // nothing more we can do; the loop ends when the connection is gone
                    }
                }
            }
        }
        try {
            loop.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
