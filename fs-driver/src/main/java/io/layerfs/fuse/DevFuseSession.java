package io.layerfs.fuse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.UnionFs;

/**
 * The /dev/fuse binding: layerfs speaks the kernel's FUSE protocol itself, without libfuse or
 * jnr-fuse. {@link #mount} opens /dev/fuse and mounts it as libfuse does for root (mount(2) with
 * {@code fd=N,rootmode=40000,user_id,group_id,default_permissions,allow_other}, MS_NOSUID|MS_NODEV);
 * {@link #serve} then runs N worker threads, each with its own direct request and reply buffers:
 * one blocking read(2) of /dev/fuse gets one request, {@link DevFuseOps} computes the reply, one
 * write(2) sends it. No request allocates native memory or crosses a JNI callback; file data moves
 * between the layer file and the request/reply buffers with pread/pwrite on their addresses.
 *
 * <p>Compared with the libfuse 2 binding: protocol 7.38 instead of 7.19 (READDIRPLUS, 1 MiB
 * requests, parallel directory operations), and one kernel inode per object instead of one per
 * name (see {@link DevFuseNodes}), which lets the kernel cache entries and attributes for long.
 *
 * <p>The session ends when the kernel ends the connection: read(2) fails with ENODEV after the
 * unmount (umount2 by {@link FuseMount#close}, or anyone's umount).
 */
final class DevFuseSession {
    private static final Logger LOG = Logger.getLogger("io.layerfs.fuse");

    private final Sys sys;
    private final int fd;
    private final DevFuseOps ops;
    private final int threads;
    /** Whether each request and reply is traced on stderr (--debug). */
    private final boolean debug;

    private DevFuseSession(Sys sys, int fd, DevFuseOps ops, int threads, boolean debug) {
        this.sys = sys;
        this.fd = fd;
        this.ops = ops;
        this.threads = threads;
        this.debug = debug;
    }

    /**
     * Mounts {@code fs} at {@code mountpoint} (absolute); the kernel queues FUSE_INIT, which the
     * first worker answers, after which {@code onInit} runs.
     */
    static DevFuseSession mount(UnionFs fs, Path mountpoint, List<String> extraOptions, int threads,
                                boolean debug, Runnable onInit) throws IOException {
        Sys sys = Sys.get();
        DevFuseOptions options;
        try {
            options = DevFuseOptions.parse(extraOptions, fs.readOnly());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        Stat root;
        try {
            root = fs.getattr("/");
        } catch (SysException e) {
            throw new IOException("cannot stat the root of the union: " + e.getMessage(), e);
        }
        int fd;
        try {
            fd = sys.openat(Sys.AT_FDCWD, "/dev/fuse", Sys.O_RDWR, 0);
        } catch (SysException e) {
            throw new IOException("cannot open /dev/fuse: " + Errno.name(e.errno()), e);
        }
        int uid = sys.geteuid();
        String data = "fd=" + fd + ",rootmode=" + Integer.toOctalString(root.mode & Stat.S_IFMT)
                + ",user_id=" + uid + ",group_id=" + sys.getegid() + ",default_permissions"
                + (uid == 0 ? ",allow_other" : "");
        try {
            sys.mount("layerfs", mountpoint.toString(), "fuse.layerfs", options.mountFlags(), data);
        } catch (SysException e) {
            sys.close(fd);
            throw new IOException("mount of " + mountpoint + " failed: " + Errno.name(e.errno())
                    + (e.errno() == Errno.EPERM ? " (mounting needs root)" : ""), e);
        }
        DevFuseOps ops = new DevFuseOps(fs, new DevFuseNodes(root.ino), options, onInit);
        return new DevFuseSession(sys, fd, ops, Math.max(1, threads), debug);
    }

    /** Serves requests until the file system is unmounted; then closes /dev/fuse. */
    void serve() throws InterruptedException {
        Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(this::work, "layerfs-devfuse-" + i);
            workers[i].setDaemon(true);
            workers[i].start();
        }
        try {
            for (Thread t : workers) {
                t.join();
            }
        } finally {
            sys.close(fd);
        }
    }

    /** One worker: read a request, answer it, until the connection ends (ENODEV). */
    private void work() {
        DevFuseOps.Buffers b = new DevFuseOps.Buffers();
        while (true) {
            int n;
            try {
                n = sys.read(fd, b.inAddress, DevFuseOps.IN_BUFFER);
            } catch (SysException e) {
                int err = e.errno();
                if (err == Errno.EINTR || err == Errno.EAGAIN || err == Errno.ENOENT) {
                    continue; // ENOENT: the request was interrupted before we got it
                }
                if (err != Errno.ENODEV) {
                    LOG.log(Level.SEVERE, "reading /dev/fuse failed; this worker stops", e);
                }
                return;
            }
            if (n < DevFuseOps.IN_HEADER) {
                continue;
            }
            try {
                answer(b, n);
            } catch (RuntimeException | Error e) {
                // handle() turns engine failures into errnos; this is a bug in the binding itself
                LOG.log(Level.SEVERE, "FUSE request failed in the /dev/fuse binding", e);
            }
        }
    }

    /** One line of --debug output, as libfuse's -d writes it: to stderr, whole lines. */
    private static void trace(String line) {
        System.err.println(line);
    }

    /** Answers the request of n bytes in b.in: computes the reply and writes it with one write(2). */
    private void answer(DevFuseOps.Buffers b, int n) {
        ByteBuffer in = b.in;
        ByteBuffer out = b.out;
        in.clear().limit(n);
        int opcode = in.getInt(4);
        long unique = in.getLong(8);
        long node = in.getLong(16);
        if (debug) {
            trace("unique: " + unique + ", opcode: " + DevFuseOps.opName(opcode).toUpperCase(java.util.Locale.ROOT)
                    + " (" + opcode + "), nodeid: " + node + ", insize: " + n + ", pid: " + in.getInt(32));
        }
        int r = ops.handle(b, opcode, node);
        if (r == DevFuseOps.NO_REPLY) {
            return;
        }
        int len = DevFuseOps.OUT_HEADER + Math.max(r, 0);
        if (debug) {
            trace("   unique: " + unique + ", " + (r < 0 ? "error: " + r + " (" + Errno.name(-r) + ")" : "success")
                    + ", outsize: " + len);
        }
        out.putInt(0, len);
        out.putInt(4, Math.min(r, 0));
        out.putLong(8, unique);
        try {
            sys.write(fd, b.outAddress, len);
        } catch (SysException e) {
            if (e.errno() != Errno.ENOENT) { // ENOENT: the request was interrupted meanwhile
                LOG.log(Level.WARNING, "reply to " + DevFuseOps.opName(opcode) + " failed", e);
            }
        }
        if (opcode == DevFuseOps.INIT && r == 64) {
            ops.initialized();
        }
    }
}
