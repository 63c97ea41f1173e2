package io.layerfs.fuse;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.UnionFs;

/**
 * The layer files a session without OPEN requests reads and writes through, one or two per node.
 *
 * <p>The kernel sends no OPEN and no RELEASE once the server has answered one OPEN with ENOSYS
 * (FUSE_NO_OPEN_SUPPORT): every open(2) and close(2) of a regular file then stays in the kernel,
 * and READ, WRITE, FSYNC, LSEEK and FALLOCATE name only the node (file handle 0). So the binding
 * opens the node's layer file when the first of them comes and keeps it open: for reading (the
 * lower or upper file), and for writing (the upper file, copied up when the first write comes).
 * A tar of a tree then waits for one request per file (the GETATTR) instead of two.
 *
 * <p>What keeps descriptors bounded and files reachable:
 * <ul>
 *   <li>at most {@code budget} nodes keep descriptors; beyond that, those unused since the last
 *       sweep are closed (second chance), and reopened by path when they are used again;</li>
 *   <li>a node whose last name goes ({@link #keepReachable}, before the unlink or the rename over
 *       it) gets a descriptor first, which no sweep closes: a process may still have the file open
 *       and read or write it, as it could on any file system;</li>
 *   <li>a node's descriptors close when the kernel forgets the node, which it does only once no
 *       open file and no cached name refers to it.</li>
 * </ul>
 * A request pins the node's descriptors from {@link #acquire} to {@link #release}: a sweep never
 * closes a descriptor while a request uses it, so its number cannot be reused under the request.
 */
final class NodeFiles {
    /** One node's descriptors; every field is guarded by the object's monitor. */
    static final class File {
        final long node;
        /** Opened read-only (or the first descriptor the node got); -1 while none. */
        long readFh = -1;
        /** Opened read-write on the upper file; -1 while none. */
        long writeFh = -1;
        int pins;
        /** Used since the last sweep. */
        boolean used;
        /** The node's last name was removed: its descriptors are the only way to its file. */
        boolean gone;
        /** Forgotten by the kernel, or swept: out of the table, closed once unpinned. */
        boolean dead;
        /** How many of its descriptors count against the budget (none once gone). */
        int counted;
        /** A gone node's lower file, not opened yet (see {@link #keepReachable}); null if none. */
        UnionFs.LowerFile lower;
        /** Its attributes as the union showed them when its last name went (nlink 0); null without lower. */
        Stat lowerStat;

        File(long node) {
            this.node = node;
        }

        /** Any descriptor open for the node, or -1. */
        synchronized long any() {
            return writeFh >= 0 ? writeFh : readFh;
        }
    }

    private final UnionFs fs;
    private final int budget;
    /** A node's path in the union, null once it has no name: asked only when a file must be opened. */
    private final LongFunction<String> pathOf;
    private final ConcurrentHashMap<Long, File> files = new ConcurrentHashMap<>();
    /**
     * Descriptors open in {@link #files} that count against the budget: those of nodes with a name.
     * A node whose last name went keeps its own outside it, until the kernel forgets the node
     * (which, for a file no one holds open, it does right after the unlink).
     */
    private final AtomicInteger open = new AtomicInteger();
    private final Object sweeping = new Object();

    NodeFiles(UnionFs fs, int budget, LongFunction<String> pathOf) {
        this.fs = fs;
        this.budget = Math.max(1, budget);
        this.pathOf = pathOf;
    }

    /** The node's entry, pinned: pass it to {@link #release} when the request is done with it. */
    File acquire(long node) {
        while (true) {
            File f = files.get(node);
            if (f == null) {
                f = files.computeIfAbsent(node, File::new);
            }
            synchronized (f) {
                if (!f.dead) {
                    f.pins++;
                    f.used = true;
                    return f;
                }
            }
            files.remove(node, f);
        }
    }

    void release(File f) {
        synchronized (f) {
            if (--f.pins == 0 && f.dead) {
                closeAll(f);
            }
        }
    }

    /**
     * A descriptor to read the node's file through: one it has, else a gone node's lower file, else
     * its layer file at its path opened read-only (ENOENT when it has no name left).
     */
    long forReading(File f) throws SysException {
        long fh = f.any();
        if (fh >= 0) {
            return fh;
        }
        UnionFs.LowerFile lower;
        synchronized (f) {
            lower = f.lower;
        }
        if (lower != null) {
            return install(f, fs.open(lower), false);
        }
        return install(f, fs.open(path(f), Sys.O_RDONLY), false);
    }

    private String path(File f) throws SysException {
        String path = pathOf.apply(f.node);
        if (path == null) {
            throw new SysException(Errno.ENOENT, "node " + f.node + " has no name left");
        }
        return path;
    }

    /**
     * A descriptor to write the node's file through: the one it has, else its file at its path
     * opened read-write, which copies a lower file up. A node with no name left writes to what its
     * read descriptor reaches (see {@link UnionFs#reopenForWriting}).
     */
    long forWriting(File f) throws SysException {
        boolean gone;
        synchronized (f) {
            if (f.writeFh >= 0) {
                return f.writeFh;
            }
            gone = f.gone;
        }
        long fh = gone ? fs.reopenForWriting(forReading(f)) : fs.open(path(f), Sys.O_RDWR);
        return install(f, fh, true);
    }

    /** The node's descriptor open for writing, or -1. */
    long writing(File f) {
        synchronized (f) {
            return f.writeFh;
        }
    }

    /** Whether the node has a descriptor open for writing (a write needs no copy-up). */
    boolean writable(long node) {
        File f = files.get(node);
        if (f == null) {
            return false;
        }
        synchronized (f) {
            return f.writeFh >= 0;
        }
    }

    /** Any descriptor the node has, or -1: for a node without a name (its fstat). */
    long any(long node) {
        File f = files.get(node);
        return f == null ? -1 : f.any();
    }

    /**
     * The attributes of a gone node's lower file not opened yet (see {@link #keepReachable}), or
     * null: lower layers never change, so the stat taken when its name went still holds, and an
     * rm -rf needs no open to answer the SETATTR of its times that follows each unlink.
     */
    Stat goneLowerStat(long node) {
        File f = files.get(node);
        if (f == null) {
            return null;
        }
        synchronized (f) {
            return f.lowerStat;
        }
    }

    /**
     * A file made by CREATE, opened read-write: it becomes the node's descriptor for both reading
     * and writing.
     */
    void created(long node, long fh) {
        File f = acquire(node);
        try {
            install(f, fh, true);
        } finally {
            release(f);
        }
    }

    /**
     * Called before the last name of the regular file {@code path} (node {@code node}) is removed:
     * makes sure the node reaches its file without the name ({@code st}: its attributes now). A lower file stays where it is, so it
     * is only remembered (opened when a READ comes: an rm -rf opens nothing); an upper file is
     * opened. {@link #removed} or {@link #kept} must follow with the outcome.
     */
    File keepReachable(long node, String path, Stat st) throws SysException {
        File f = acquire(node);
        try {
            if (f.any() < 0) {
                UnionFs.LowerFile lower = fs.lowerFile(path);
                if (lower == null) {
                    install(f, fs.open(path, Sys.O_RDONLY), false);
                } else {
                    synchronized (f) {
                        f.lower = lower;
                        f.lowerStat = st.withNlink(0);
                    }
                }
            }
            return f;
        } catch (SysException | RuntimeException e) {
            release(f);
            throw e;
        }
    }

    /** The name is gone: the node's descriptors stay until the kernel forgets it. */
    void removed(File f) {
        synchronized (f) {
            f.gone = true;
            open.addAndGet(-f.counted);
            f.counted = 0;
        }
        release(f);
    }

    /** The name was not removed after all (the change failed). */
    void kept(File f) {
        synchronized (f) {
            f.lower = null;
            f.lowerStat = null;
        }
        release(f);
    }

    /** The kernel forgot the node: its descriptors close (once no request uses them). */
    void forget(long node) {
        File f = files.remove(node);
        if (f != null) {
            synchronized (f) {
                f.dead = true;
                if (f.pins == 0) {
                    closeAll(f);
                }
            }
        }
    }

    /** Number of descriptors open, for tests. */
    int openCount() {
        return open.get();
    }

    /** Sets fh as the node's read or write descriptor, unless another request set one first. */
    private long install(File f, long fh, boolean writing) {
        long extra = -1;
        long result;
        boolean counts;
        synchronized (f) {
            counts = !f.gone;
            if (writing) {
                if (f.writeFh < 0) {
                    f.writeFh = fh;
                    result = fh;
                } else {
                    extra = fh;
                    result = f.writeFh;
                }
            } else {
                long have = f.writeFh >= 0 ? f.writeFh : f.readFh;
                if (have < 0) {
                    f.readFh = fh;
                    result = fh;
                } else {
                    extra = fh;
                    result = have;
                }
            }
            if (extra < 0 && counts) {
                f.counted++;
            }
        }
        if (extra >= 0) {
            fs.release(extra);
        } else if (counts && open.incrementAndGet() > budget) {
            sweep();
        }
        return result;
    }

    /**
     * Closes the descriptors of nodes unused since the last sweep, until a quarter of the budget
     * is free; a node in use now, or whose last name is gone, keeps its own.
     */
    private void sweep() {
        synchronized (sweeping) {
            int target = budget - budget / 4;
            for (int pass = 0; pass < 2 && open.get() > target; pass++) {
                for (File f : files.values()) {
                    if (open.get() <= target) {
                        return;
                    }
                    synchronized (f) {
                        if (f.pins > 0 || f.gone || f.dead) {
                            continue;
                        }
                        if (f.used) {
                            f.used = false;
                            continue;
                        }
                        f.dead = true;
                        files.remove(f.node, f);
                        closeAll(f);
                    }
                }
            }
        }
    }

    /** Holding f's monitor. */
    private void closeAll(File f) {
        if (f.readFh >= 0) {
            fs.release(f.readFh);
            f.readFh = -1;
        }
        if (f.writeFh >= 0) {
            fs.release(f.writeFh);
            f.writeFh = -1;
        }
        open.addAndGet(-f.counted);
        f.counted = 0;
    }
}
