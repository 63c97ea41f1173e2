package io.layerfs.union;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The union engine: overlayfs semantics over plain directories, driven by paths as the FUSE
 * high-level API delivers them ("/" or "/a/b"). It never touches a FUSE type, so tests and
 * benchmarks drive it in-process. Every failure is a {@link SysException} with the errno the
 * caller should see.
 *
 * <p>Who owns what: {@link Resolver} looks names up through the layers, {@link Markers} knows the
 * whiteout and opaque encodings, {@link CopyUp} copies lower objects up, {@link MergedDirectory}
 * lists directories, {@link InodeNumbers} keeps st_ino stable, {@link WorkDir} holds the workdir.
 * This class sequences them for each operation.
 *
 * <p>Locking: operations that only read the union's shape (lookup, getattr, readdir, open for read)
 * hold {@code lock}'s read lock; operations that change it (create, remove, rename, copy-up) hold
 * its write lock. Data reads and writes go straight to the file descriptor and take no lock. A
 * copy-up of a file's data is built in the workdir before the write lock is taken, holding no lock
 * at all; under the write lock it is only checked and renamed into place ({@link #prepareCopyUp}).
 * Permission checks are the kernel's ({@code default_permissions}); the engine acts as its caller
 * asks and sets the caller's ownership on new objects.
 */
public final class UnionFs implements AutoCloseable {
    private static final int S_ISGID = 02000;
    private static final int OPEN_FLAGS_DROPPED = Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOCTTY | Sys.O_TRUNC | Sys.O_DIRECT;

    private final Sys sys;
    private final Layer[] layers;
    private final Layer upper;
    private final WorkDir work;
    private final Resolver resolver;
    private final CopyUp copyUp;
    private final InodeNumbers inodes;
    private final HardLinks hardLinks;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<Long, OpenDir> openDirs = new ConcurrentHashMap<>();
    /**
     * Descriptors handed out by {@link #open} and {@link #create} and not released yet: closed by
     * {@link #close}, so a union closed in-process (tests, an embedding) leaves nothing open on its
     * layers even when the kernel dropped a RELEASE at unmount.
     */
    private final Set<Integer> openFiles = ConcurrentHashMap.newKeySet();
    /**
     * Read-only descriptors of lower regular files, by the lower name they were opened by: a
     * copy-up of the file points each at the copy (dup2 of the copy's descriptor onto theirs), so a
     * reader that opened a file before it was copied up reads what was written since, as on kernel
     * overlayfs. Without it such a reader read the lower data, and through FUSE its reads refilled
     * the mount's page cache, shared by every open of the file, with the lower data: once the
     * cache had been dropped, new opens showed the old content too. Keyed by name, not by inode,
     * so that an open costs no system call more (a copy-up of a hard-linked file looks up its
     * other names). Guarded by itself; a descriptor in it is closed under that lock, so a copy-up
     * never points a number closed and reused meanwhile.
     */
    private final Map<LowerName, Set<Integer>> lowerReaders = new HashMap<>();
    /** The key in {@link #lowerReaders} of each descriptor there. */
    private final ConcurrentHashMap<Integer, LowerName> lowerReaderKeys = new ConcurrentHashMap<>();

    /** A name in a lower layer. */
    private record LowerName(int layer, String rel) {
    }

    /** A regular file of a lower layer, by layer and path in it: see {@link #lowerFile}. */
    public static final class LowerFile {
        private final LowerName name;

        private LowerFile(LowerName name) {
            this.name = name;
        }
    }

    /**
     * The lower file that path shows, if it is a regular file from a lower layer (null otherwise):
     * it stays where it is when its name leaves the union, since lower layers never change, so
     * {@link #open(LowerFile)} can open it later. Costs no system call when path was looked up
     * recently.
     */
    public LowerFile lowerFile(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            if (e.top.upper || e.top == workLayer || e.type != Stat.S_IFREG) {
                return null;
            }
            return new LowerFile(new LowerName(e.top.index, e.rel()));
        } finally {
            r.unlock();
        }
    }

    /** Opens a file from {@link #lowerFile} read-only: a handle as {@link #open(String, int)} gives. */
    public long open(LowerFile f) throws SysException {
        int fd = sys.openat(layers[f.name.layer()].fd, f.name.rel(), Sys.O_RDONLY | Sys.O_NOFOLLOW, 0);
        if (upper != null) {
            addLowerReader(fd, f.name);
        }
        return tracked(fd);
    }

    private final AtomicLong dirHandles = new AtomicLong();
    private final AtomicLong copyUps = new AtomicLong();
    /**
     * Copies of lower files being built outside the lock, by the lower object they copy: a second
     * copy-up of one object waits for the first instead of copying it again (see {@link #prepareCopyUp}).
     */
    private final ConcurrentHashMap<LowerObject, PreparedCopy> copying = new ConcurrentHashMap<>();
    /** The workdir's work subdirectory seen as a layer: where detached objects live. */
    private final Layer workLayer;
    /** Names that detach instead of renaming (see {@link #detachNamesStartingWith}); null: none. */
    private volatile String detachPrefix;

    private final Trace trace;
    /** Copied from trace.lookups(): the lookup hot path tests a final field, nothing more. */
    private final boolean traceLookups;

    private UnionFs(Sys sys, Layer[] layers, Layer upper, WorkDir work, boolean syncCopyUp, Trace trace)
            throws SysException {
        this.sys = sys;
        this.trace = trace;
        this.traceLookups = trace.lookups();
        this.layers = layers;
        long[] devs = new long[layers.length];
        for (int i = 0; i < layers.length; i++) {
            devs[i] = layers[i].dev;
        }
        this.inodes = new InodeNumbers(devs);
        this.upper = upper;
        this.work = work;
        this.resolver = new Resolver(sys, layers);
        this.copyUp = upper == null ? null : new CopyUp(sys, upper, work, syncCopyUp);
        this.hardLinks = new HardLinks(sys);
        this.workLayer = work == null ? null
                : new Layer(-1, work.path(), work.fd, false, upper.devIndex, upper.dev, 0);
    }

    /** Opens the layers, takes the workdir lock and clears leftovers in the workdir. */
    public static UnionFs open(UnionConfig config) throws IOException {
        return open(config, Trace.OFF);
    }

    /** The same, telling trace about every change it makes to the layers (and lookups, if it asks). */
    public static UnionFs open(UnionConfig config, Trace trace) throws IOException {
        Sys sys = Sys.get();
        List<Layer> list = new ArrayList<>();
        WorkDir work = null;
        InodeNumbers probe = new InodeNumbers();
        try {
            if (config.upper() != null) {
                Path up = config.upper().toAbsolutePath();
                Path wk = config.work().toAbsolutePath();
                int fd = openDir(sys, up, "upperdir");
                Stat upSt = sys.fstat(fd);
                list.add(new Layer(0, up, fd, true, probe.devIndex(upSt.dev), upSt.dev, 1));
                int wfd = openDir(sys, wk, "workdir");
                Stat wkSt = sys.fstat(wfd);
                sys.close(wfd);
                if (upSt.dev != wkSt.dev) {
                    throw new IOException("workdir " + wk + " is not on the same filesystem as upperdir " + up);
                }
                work = WorkDir.open(sys, wk.toString());
            }
            for (Path p : config.lowers()) {
                Path abs = p.toAbsolutePath();
                int fd = openDir(sys, abs, "lowerdir");
                long dev = sys.fstat(fd).dev;
                list.add(new Layer(list.size(), abs, fd, false, probe.devIndex(dev), dev, config.upper() == null ? 0 : 1));
            }
            Layer[] layers = list.toArray(new Layer[0]);
            return new UnionFs(sys, layers, config.upper() == null ? null : layers[0], work, !config.isVolatile(), trace);
        } catch (SysException e) {
            for (Layer l : list) {
                sys.closeDirectory(l.fd);
            }
            if (work != null) {
                work.close();
            }
            throw new IOException(e.getMessage(), e);
        } catch (IOException e) {
            for (Layer l : list) {
                sys.closeDirectory(l.fd);
            }
            if (work != null) {
                work.close();
            }
            throw e;
        }
    }

    private static int openDir(Sys sys, Path p, String what) throws IOException {
        if (!Files.isDirectory(p)) {
            throw new IOException(what + " " + p + " is not a directory");
        }
        try {
            return sys.openat(Sys.AT_FDCWD, p.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        } catch (SysException e) {
            throw new IOException("cannot open " + what + " " + p + ": " + Errno.name(e.errno()), e);
        }
    }

    public boolean readOnly() {
        return upper == null;
    }

    /** Number of objects copied up since the mount started (for tests and tracing). */
    public long copyUpCount() {
        return copyUps.get();
    }

    /** Sets the hook told of each chunk a file's copy-up moves (tests only; null: none). */
    void copyUpProgress(CopyUp.Progress p) {
        copyUp.progress(p);
    }

    /**
     * Forgets the cached lookup of path only (not its parent's, not its children's), so the next call
     * that names it walks the layers again, as a FUSE LOOKUP of a name the kernel has not seen does.
     * The engine keeps its cache right by itself; this is for benchmarks that time that walk.
     */
    public void forgetLookup(String path) {
        Lock w = lock.writeLock();
        w.lock();
        try {
            resolver.invalidate(path);
        } finally {
            w.unlock();
        }
    }

    // ---- reading ------------------------------------------------------------------------------------

    public Stat getattr(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Stat[] found = new Stat[1];
            Entry e = resolver.lookup(path, found);
            if (traceLookups) {
                trace.lookup(path, e == null ? null : e.top.toString());
            }
            if (e == null) {
                throw new SysException(Errno.ENOENT, path);
            }
            // a lookup that searched the layers has just read the attributes: not twice
            return present(e, found[0] != null ? found[0] : sys.lstat(e.top.fd, e.rel()));
        } finally {
            r.unlock();
        }
    }

    /**
     * Whether a change to path (a write open, truncate, chmod, chown, utimes, xattr, link, rename)
     * would first copy a file's data up from a lower layer: the one kind of change whose time grows
     * with the file's size. A binding may run such requests apart from the others. False for
     * anything already in the upper layer, directories, and names that do not resolve.
     */
    public boolean wouldCopyData(String path) {
        if (upper == null) {
            return false;
        }
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.lookup(path);
            return e != null && !e.inUpper() && e.type == Stat.S_IFREG;
        } catch (SysException e) {
            return false;
        } finally {
            r.unlock();
        }
    }

    /** Attributes of an open file (fh from {@link #open} or {@link #create}). */
    public Stat fgetattr(long fh) throws SysException {
        Stat st = sys.fstat((int) fh);
        return st.with(inodes.of(st), st.nlink);
    }

    private Stat present(Entry e, Stat st) throws SysException {
        // overlayfs reports nlink 1 for merged directories: their real count is unknown (find(1) knows);
        // a detached object has lost the name it had in the union
        long nlink = e.isMerged() ? 1 : e.detached ? Math.max(0, st.nlink - 1) : st.nlink;
        return st.with(numberOf(e, st), nlink);
    }

    /** The st_ino shown for e's object, whose real stat is st (see {@link InodeNumbers}). */
    private long numberOf(Entry e, Stat st) throws SysException {
        if (!e.top.upper) {
            return inodes.of(st);
        }
        Long known = inodes.known(st.dev, st.ino);
        if (known != null) {
            return known;
        }
        return inodes.remember(st, originNumber(e, st));
    }

    /**
     * The number of the lower object an upper object was copied from, worked out from the upper
     * alone (so it holds after a remount); the upper object's own number if it has no origin.
     */
    private long originNumber(Entry e, Stat st) throws SysException {
        if (st.isDirectory()) {
            if (e.dirLayers.length > 1) {
                Stat below = sys.lstatOrNull(e.dirLayers[1].fd, e.rel());
                if (below != null && below.isDirectory()) {
                    return inodes.of(below);
                }
            }
            return inodes.own(st);
        }
        if (!st.isRegular()) {
            return inodes.own(st);
        }
        byte[] v = sys.lgetxattrAt(upper.fd, e.rel(), ForeignOrigins.FUSE_OVERLAYFS_ORIGIN);
        String originRel = v == null ? null : ForeignOrigins.originPath(v);
        if (originRel == null || originRel.isEmpty() || originRel.startsWith("/") || originRel.contains("..")) {
            return inodes.own(st);
        }
        for (int i = 1; i < layers.length; i++) {
            Stat lower = sys.lstatOrNull(layers[i].fd, originRel);
            if (lower != null) {
                return lower.isRegular() ? inodes.of(lower) : inodes.own(st);
            }
        }
        return inodes.own(st);
    }

    /** The number readdir shows for name, found in layer l of dir with real inode number ino. */
    private long itemNumber(Entry dir, Layer l, String name, long ino) throws SysException {
        if (!l.upper) {
            return inodes.of(l.dev, ino);
        }
        Long known = inodes.known(l.dev, ino);
        if (known != null) {
            return known;
        }
        Entry child = resolver.lookup(childPath(dir.path, name));
        Stat st = child == null || !child.top.upper ? null : sys.lstatOrNull(child.top.fd, child.rel());
        return st == null || st.ino != ino ? inodes.of(l.dev, ino) : numberOf(child, st);
    }

    public String readlink(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            if (e.type != Stat.S_IFLNK) {
                throw new SysException(Errno.EINVAL, path);
            }
            return sys.readlinkat(e.top.fd, e.rel());
        } finally {
            r.unlock();
        }
    }

    /** Checks that path exists (the kernel does the permission checks with default_permissions). */
    public void access(String path, int mask) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            if ((mask & 2) != 0 && upper == null) {
                throw new SysException(Errno.EROFS, path);
            }
            if (!sys.faccessat(e.top.fd, e.rel(), mask & 1) && (mask & 1) != 0) {
                throw new SysException(Errno.EACCES, path);
            }
        } finally {
            r.unlock();
        }
    }

    /** statvfs of the upper (or of the top lower for a read-only union). */
    public long[] statfs() throws SysException {
        return sys.fstatvfs(layers[0].fd);
    }

    // ---- directories --------------------------------------------------------------------------------

    /**
     * Opens the directory at path. The merged listing is taken at the first {@link #readdir}, not
     * here: a kernel that caches listings (FOPEN_CACHE_DIR) opens a directory it will not read.
     */
    public long opendir(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            if (!resolver.require(path).isDir()) {
                throw new SysException(Errno.ENOTDIR, path);
            }
        } finally {
            r.unlock();
        }
        long h = dirHandles.incrementAndGet();
        openDirs.put(h, new OpenDir());
        return h;
    }

    /**
     * The merged listing of an open directory, now at path (the caller's current name for it: a
     * rename between opendir and readdir moves it). Taken at the first call and kept, so offsets
     * stay stable until {@link #releasedir}; a directory removed before that lists nothing.
     */
    public List<DirItem> readdir(long handle, String path) throws SysException {
        return readdir(handle, () -> path);
    }

    /** The directory's current path, asked for only when its listing is taken. */
    @FunctionalInterface
    public interface DirPath {
        String get() throws SysException;
    }

    /** {@link #readdir(long, String)}, with the path built only for the first call. */
    public List<DirItem> readdir(long handle, DirPath path) throws SysException {
        OpenDir dir = openDirs.get(handle);
        if (dir == null) {
            throw new SysException(Errno.EBADF, "directory handle " + handle);
        }
        synchronized (dir) {
            if (dir.items == null) {
                dir.items = listing(path.get());
            }
            return dir.items;
        }
    }

    private List<DirItem> listing(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.lookup(path);
            if (e == null) {
                return List.of();
            }
            if (!e.isDir()) {
                throw new SysException(Errno.ENOTDIR, path);
            }
            return MergedDirectory.list(sys, e, (l, name, ino) -> itemNumber(e, l, name, ino));
        } finally {
            r.unlock();
        }
    }

    /** An open directory: its listing, null until the first readdir. */
    private static final class OpenDir {
        List<DirItem> items;
    }

    public void releasedir(long handle) {
        openDirs.remove(handle);
    }

    /** The merged listing of path, for in-process callers. */
    public List<DirItem> list(String path) throws SysException {
        long h = opendir(path);
        try {
            return readdir(h, path);
        } finally {
            releasedir(h);
        }
    }

    // ---- files --------------------------------------------------------------------------------------

    /**
     * Opens path; a write access or O_TRUNC copies a lower file up first (O_TRUNC copies no data).
     * Returns the file handle: a descriptor of the real file for {@link #read}/{@link #write}.
     */
    public long open(String path, int flags) throws SysException {
        return tracked(openFile(path, flags));
    }

    private long openFile(String path, int flags) throws SysException {
        boolean writing = (flags & Sys.O_ACCMODE) != Sys.O_RDONLY || (flags & Sys.O_TRUNC) != 0;
        int realFlags = (flags & ~OPEN_FLAGS_DROPPED) | Sys.O_NOFOLLOW;
        if (!writing) {
            Lock r = lock.readLock();
            r.lock();
            try {
                Entry e = resolver.require(path);
                int fd = sys.openat(e.top.fd, e.rel(), realFlags, 0);
                if (!e.top.upper && e.top != workLayer && upper != null && e.type == Stat.S_IFREG) {
                    // registered under the read lock: a copy-up (under the write lock) finds it
                    addLowerReader(fd, new LowerName(e.top.index, e.rel()));
                }
                return fd;
            } finally {
                r.unlock();
            }
        }
        requireWritable(path);
        int fd = openIfUp(path, flags, realFlags);
        if (fd >= 0) {
            return fd;
        }
        boolean withData = (flags & Sys.O_TRUNC) == 0;
        PreparedCopy p = withData ? prepareCopyUp(path) : null;
        try {
            if (p == null && (fd = openIfUp(path, flags, realFlags)) >= 0) {
                return fd; // copied up by another request meanwhile
            }
            Lock w = lock.writeLock();
            w.lock();
            try {
                Entry e = resolver.require(path);
                if (e.isDir()) {
                    throw new SysException(Errno.EISDIR, path);
                }
                return openForWrite(copyUp(e, withData, p), flags, realFlags);
            } finally {
                w.unlock();
            }
        } finally {
            donePreparing(p);
        }
    }

    /** Opens path for writing if its object can change in place; -1 if it must be copied up first. */
    private int openIfUp(String path, int flags, int realFlags) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            if (e.isDir()) {
                throw new SysException(Errno.EISDIR, path);
            }
            return isUp(e) ? openForWrite(e, flags, realFlags) : -1;
        } finally {
            r.unlock();
        }
    }

    private int openForWrite(Entry up, int flags, int realFlags) throws SysException {
        int fd = sys.openat(up.top.fd, up.rel(), realFlags, 0);
        if ((flags & Sys.O_TRUNC) != 0) {
            sys.ftruncate(fd, 0);
        }
        return fd;
    }

    /** Creates a regular file (O_CREAT) owned by caller and opens it; EEXIST with O_EXCL. */
    public long create(String path, int mode, int flags, Caller caller) throws SysException {
        return tracked(createFile(path, mode, flags, caller));
    }

    private long createFile(String path, int mode, int flags, Caller caller) throws SysException {
        requireWritable(path);
        Lock w = lock.writeLock();
        w.lock();
        try {
            if (resolver.lookup(path) != null) {
                if ((flags & Sys.O_EXCL) != 0) {
                    throw new SysException(Errno.EEXIST, path);
                }
                w.unlock();
                w = null;
                return openFile(path, flags);
            }
            NewObject n = prepareNew(path, caller, false);
            int realFlags = (flags & ~OPEN_FLAGS_DROPPED) | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW;
            int fd;
            if (n.replacesWhiteout) {
                String tmp = work.tempName();
                fd = sys.openat(work.fd, tmp, realFlags, mode & 07777);
                try {
                    n.own(fd, mode);
                    sys.renameat2(work.fd, tmp, upper.fd, n.rel, 0);
                } catch (SysException e) {
                    sys.close(fd);
                    discardNew(work.fd, tmp);
                    throw e;
                }
            } else {
                fd = sys.openat(upper.fd, n.rel, realFlags, mode & 07777);
                try {
                    n.own(fd, mode);
                } catch (SysException e) {
                    sys.close(fd);
                    discardNew(upper.fd, n.rel); // made by this O_EXCL open: no one else's
                    throw e;
                }
            }
            resolver.invalidate(path);
            return fd;
        } finally {
            if (w != null) {
                w.unlock();
            }
        }
    }

    /**
     * Opens the file that handle fh is open on again, read-write, for writing to a file whose last
     * name went while it was open: the same upper file through /proc/self/fd (it has no name to
     * open), or, for a lower file, which a write must never reach, an unnamed copy made in the
     * workdir (O_TMPFILE). The copy is what kernel overlayfs writes in that case too, since it
     * copies up at open: it goes with the last descriptor.
     */
    public long reopenForWriting(long fh) throws SysException {
        requireWritable("/");
        LowerName lower = lowerReaderKeys.get((int) fh); // every read-only descriptor of a lower file is there
        if (lower == null) {
            return tracked(sys.openat(Sys.AT_FDCWD, "/proc/self/fd/" + fh, Sys.O_RDWR, 0));
        }
        Stat st = sys.fstat((int) fh);
        int copy = sys.openat(work.fd, ".", Sys.O_TMPFILE | Sys.O_RDWR, st.mode & 07777);
        try {
            copyUp.copyData((int) fh, copy, st.size, lower.rel());
        } catch (SysException | RuntimeException e) {
            sys.close(copy);
            throw e;
        }
        return tracked(copy);
    }

    /** Whether the open file is an upper file with several names (its data changes under each of them). */
    public boolean sharedInode(long fh) throws SysException {
        if (upper == null) {
            return false;
        }
        Stat st = sys.fstat((int) fh);
        return st.nlink > 1 && st.dev == upper.dev && !st.isDirectory();
    }

    public int read(long fh, long address, int size, long offset) throws SysException {
        return sys.pread((int) fh, address, size, offset);
    }

    /**
     * lseek(2) of an open file, for SEEK_DATA/SEEK_HOLE: the offset, or -1 (ENXIO) when no data or
     * hole follows offset.
     */
    public long lseek(long fh, long offset, int whence) throws SysException {
        return sys.lseek((int) fh, offset, whence);
    }

    public int write(long fh, long address, int size, long offset) throws SysException {
        return sys.pwrite((int) fh, address, size, offset);
    }

    public int read(long fh, byte[] buf, int size, long offset) throws SysException {
        return sys.pread((int) fh, buf, size, offset);
    }

    public int write(long fh, byte[] buf, int size, long offset) throws SysException {
        return sys.pwrite((int) fh, buf, size, offset);
    }

    public void ftruncate(long fh, long size) throws SysException {
        sys.ftruncate((int) fh, size);
    }

    /**
     * Sets the times of an open file (nsec may be UTIME_NOW or UTIME_OMIT). For a handle the kernel
     * names in a SETATTR, which is one opened for writing: an upper file, which may have no name
     * left (unlinked while open).
     */
    public void futimens(long fh, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        sys.futimens((int) fh, aSec, aNsec, mSec, mNsec);
    }

    public void fsync(long fh, boolean dataOnly) throws SysException {
        sys.fsync((int) fh, dataOnly);
    }

    public void fallocate(long fh, int mode, long offset, long length) throws SysException {
        sys.fallocate((int) fh, mode, offset, length);
    }

    public void release(long fh) {
        int fd = (int) fh;
        if (lowerReaderKeys.containsKey(fd)) {
            synchronized (lowerReaders) {
                LowerName key = lowerReaderKeys.remove(fd);
                if (key != null) {
                    Set<Integer> fds = lowerReaders.get(key);
                    fds.remove(fd);
                    if (fds.isEmpty()) {
                        lowerReaders.remove(key);
                    }
                }
                closeOpenFile(fd);
            }
            return;
        }
        closeOpenFile(fd);
    }

    private void closeOpenFile(int fd) {
        // only once: after close() a late RELEASE must not close a number reused since
        if (openFiles.remove(fd)) {
            sys.close(fd);
        }
    }

    private void addLowerReader(int fd, LowerName key) {
        synchronized (lowerReaders) {
            lowerReaders.computeIfAbsent(key, k -> new HashSet<>()).add(fd);
            lowerReaderKeys.put(fd, key);
        }
    }

    /**
     * Points the read-only descriptors of the lower file copied up from e, by any of its names, at
     * its copy {@code up} (see {@link #lowerReaders}). Called under the write lock, once the copy
     * (and its other names') are in place.
     */
    private void pointReadersAtCopy(Entry e, Stat lower, Entry up) {
        synchronized (lowerReaders) {
            if (lowerReaders.isEmpty()) {
                return;
            }
            List<Integer> fds = new ArrayList<>();
            takeReaders(new LowerName(e.top.index, e.rel()), fds);
            if (lower.nlink > 1) {
                try {
                    for (String rel : hardLinks.namesOf(e.top, lower.ino)) {
                        takeReaders(new LowerName(e.top.index, rel), fds);
                    }
                } catch (SysException x) {
                    warn("readers of other names of " + up.path + " opened before its copy-up may still read the lower file: "
                            + x.getMessage());
                }
            }
            if (fds.isEmpty()) {
                return;
            }
            int copy;
            try {
                copy = sys.openat(upper.fd, up.rel(), Sys.O_RDONLY | Sys.O_NOFOLLOW, 0);
            } catch (SysException x) {
                warn("readers of " + up.path + " opened before its copy-up still read the lower file: " + x.getMessage());
                return;
            }
            try {
                for (Integer fd : fds) {
                    sys.dup2(copy, fd);
                }
            } catch (SysException x) {
                warn("a reader of " + up.path + " opened before its copy-up still reads the lower file: " + x.getMessage());
            } finally {
                sys.close(copy);
            }
        }
    }

    /** Moves the descriptors registered under key to fds. Holding {@link #lowerReaders}. */
    private void takeReaders(LowerName key, List<Integer> fds) {
        Set<Integer> taken = lowerReaders.remove(key);
        if (taken != null) {
            for (Integer fd : taken) {
                lowerReaderKeys.remove(fd);
                fds.add(fd);
            }
        }
    }

    static void warn(String message) {
        java.util.logging.Logger.getLogger("io.layerfs.union").warning(message);
    }

    /** fd, remembered as open until {@link #release} (or {@link #close}). */
    private long tracked(long fd) {
        openFiles.add((int) fd);
        return fd;
    }

    // ---- creating names -----------------------------------------------------------------------------

    public void mkdir(String path, int mode, Caller caller) throws SysException {
        requireWritable(path);
        Lock w = lock.writeLock();
        w.lock();
        try {
            if (resolver.lookup(path) != null) {
                throw new SysException(Errno.EEXIST, path);
            }
            NewObject n = prepareNew(path, caller, true);
            // A directory made where a lower one is hidden must not merge with it (overlayfs.rst,
            // "whiteouts and opaque directories"): mark it opaque.
            Entry below = n.parent.dirLayers[0].upper ? resolver.scan(n.parent, n.name, null, 1) : null;
            boolean opaque = below != null && below.isDir();
            int dirMode = (mode & 07777) | (n.setgidParent ? S_ISGID : 0);
            // Every directory is made in the workdir and renamed into place, as fuse-overlayfs makes
            // them, not only the opaque ones and those replacing a whiteout: ext4 places a new
            // directory's inode, and then its files', by the parent it is made in. Made in place, an
            // untar into the mount right after 20,000 files were deleted spent a fifth of the server's
            // samples in ext4 skipping recently deleted inodes (recently_deleted); made in the
            // workdir, that untar took 9.6 s against 14.3 s (medians of 5, alternating).
            String name = work.tempName();
            sys.mkdirat(work.fd, name, dirMode & 0777);
            try {
                n.ownIn(work.fd, name, dirMode);
                if (opaque) {
                    sys.lsetxattrAt(work.fd, name, Markers.TRUSTED_OPAQUE, Markers.OPAQUE_YES, 0);
                }
                sys.renameat2(work.fd, name, upper.fd, n.rel,
                        n.replacesWhiteout ? Sys.RENAME_EXCHANGE : Sys.RENAME_NOREPLACE);
            } catch (SysException e) {
                discardNew(work.fd, name);
                throw e;
            }
            if (opaque) {
                trace.opaque(path, "made where a lower directory is hidden");
            }
            if (n.replacesWhiteout) {
                sys.unlinkat(work.fd, name, 0); // the whiteout, swapped out
            }
            // the name did not resolve before, so nothing below it is cached (a lookup under a missing
            // parent caches nothing): forgetting the name alone is enough, and O(1) however big the cache
            resolver.invalidate(path);
        } finally {
            w.unlock();
        }
    }

    /** mknod: fifos, sockets and (as root) devices. */
    public void mknod(String path, int mode, long rdev, Caller caller) throws SysException {
        addName(path, caller, mode, (dirfd, name) -> sys.mknodat(dirfd, name, mode, rdev));
    }

    public void symlink(String target, String path, Caller caller) throws SysException {
        addName(path, caller, -1, (dirfd, name) -> sys.symlinkat(target, dirfd, name));
    }

    /** A hard link: the source is copied up first, then linked inside the upper. */
    public void link(String from, String to) throws SysException {
        requireWritable(to);
        PreparedCopy p = prepareCopyUp(from, () -> resolver.lookup(to) == null);
        Lock w = lock.writeLock();
        w.lock();
        try {
            Entry s = resolver.require(from);
            if (s.isDir()) {
                throw new SysException(Errno.EPERM, from);
            }
            if (s.detached) {
                throw new SysException(Errno.ENOENT, from);
            }
            if (resolver.lookup(to) == null) {
                // copied up before the new name is placed: the link must point at the upper copy
                String sourceRel = copyUp(s, true, p).rel();
                addNameLocked(to, null, -1, (dirfd, name) -> sys.linkat(upper.fd, sourceRel, dirfd, name));
                resolver.invalidate(from);
            } else {
                throw new SysException(Errno.EEXIST, to);
            }
        } finally {
            w.unlock();
            donePreparing(p);
        }
    }

    /** Makes a new object at dirfd/name. */
    @FunctionalInterface
    private interface Maker {
        void make(int dirfd, String name) throws SysException;
    }

    /**
     * Adds a new name made by maker and owned by caller (null: keep the owner, as for a link).
     * Where a whiteout holds the name, the object is built in the workdir and renamed over it, so
     * the lower object never shows in between.
     */
    private void addName(String path, Caller caller, int mode, Maker maker) throws SysException {
        requireWritable(path);
        Lock w = lock.writeLock();
        w.lock();
        try {
            if (resolver.lookup(path) != null) {
                throw new SysException(Errno.EEXIST, path);
            }
            addNameLocked(path, caller, mode, maker);
        } finally {
            w.unlock();
        }
    }

    private void addNameLocked(String path, Caller caller, int mode, Maker maker) throws SysException {
        NewObject n = prepareNew(path, caller == null ? Caller.ROOT : caller, false);
        int dirfd = n.replacesWhiteout ? work.fd : upper.fd;
        String name = n.replacesWhiteout ? work.tempName() : n.rel;
        maker.make(dirfd, name);
        try {
            if (caller != null) {
                n.ownIn(dirfd, name, mode);
            }
            if (n.replacesWhiteout) {
                sys.renameat2(work.fd, name, upper.fd, n.rel, 0);
            }
        } catch (SysException e) {
            discardNew(dirfd, name);
            throw e;
        }
        resolver.invalidate(path);
    }

    /**
     * Removes an object this operation made (in the workdir, or in the upper under its new name)
     * after a later step of the operation failed; that failure stays the answer. What cannot be
     * removed now stays: in the workdir, the next mount's clean-up removes it.
     */
    private void discardNew(int dirfd, String name) {
        try {
            WorkDir.removeTree(sys, dirfd, name);
        } catch (SysException ignored) {
            // the first failure is the one to report
        }
    }

    /** Where and how a new name goes in the upper; the parent is copied up on the way. */
    private final class NewObject {
        final Entry parent;
        final String name;
        final String rel;
        final boolean replacesWhiteout;
        final boolean setgidParent;
        final int uid;
        final int gid;

        NewObject(Entry parent, String name, boolean replacesWhiteout, Stat parentStat, Caller caller) {
            this.parent = parent;
            this.name = name;
            this.rel = Markers.child(parent.rel(), name);
            this.replacesWhiteout = replacesWhiteout;
            this.setgidParent = (parentStat.mode & S_ISGID) != 0;
            this.uid = caller.uid;
            this.gid = setgidParent ? parentStat.gid : caller.gid;
        }

        /**
         * Gives an open new file its owner. chown clears set-id bits of a regular file even for
         * root, so they are set again afterwards.
         */
        void own(int fd, int mode) throws SysException {
            if (uid != 0 || gid != 0) {
                sys.fchown(fd, uid, gid);
                if ((mode & 06000) != 0) {
                    sys.fchmod(fd, mode & 07777);
                }
            }
        }

        /**
         * Same for an object built at dirfd/where, and its set-id and sticky bits, which neither
         * mkdir nor a chown keeps; mode -1 for symlinks, which have none.
         */
        void ownIn(int dirfd, String where, int mode) throws SysException {
            if (uid != 0 || gid != 0) {
                sys.lchownat(dirfd, where, uid, gid);
            }
            if (mode >= 0 && (mode & 07000) != 0) {
                sys.fchmodat(dirfd, where, mode & 07777);
            }
        }
    }

    private NewObject prepareNew(String path, Caller caller, boolean dir) throws SysException {
        String name = nameOf(path);
        if (Markers.isMarkerName(name)) {
            // such a name would itself be read as a whiteout or opaque marker
            throw new SysException(Errno.EINVAL, path);
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
            throw new SysException(Errno.ENAMETOOLONG, path);
        }
        Entry parent = resolver.require(parentOf(path));
        if (!parent.isDir()) {
            throw new SysException(Errno.ENOTDIR, path);
        }
        parent = ensureUpperDir(parent);
        String rel = Markers.child(parent.rel(), name);
        Stat there = sys.lstatOrNull(upper.fd, rel);
        boolean whiteout = false;
        if (there != null) {
            if (!Markers.isWhiteoutObject(sys, upper, rel, there, parent.xattrWhiteouts[0])) {
                throw new SysException(Errno.EEXIST, path);
            }
            whiteout = true;
        }
        Stat parentStat = sys.lstat(upper.fd, parent.rel());
        return new NewObject(parent, name, whiteout, parentStat, caller);
    }

    // ---- removing names -----------------------------------------------------------------------------

    public void unlink(String path) throws SysException {
        requireWritable(path);
        Lock w = lock.writeLock();
        w.lock();
        try {
            Entry e = resolver.require(path);
            if (e.isDir()) {
                throw new SysException(Errno.EISDIR, path);
            }
            if (e.detached) {
                resolver.undetach(path);
                if (e.top == workLayer) {
                    sys.unlinkat(work.fd, e.rel(), 0);
                }
                return;
            }
            removeName(e);
            resolver.invalidate(path);
        } finally {
            w.unlock();
        }
    }

    public void rmdir(String path) throws SysException {
        requireWritable(path);
        Lock w = lock.writeLock();
        w.lock();
        try {
            Entry e = resolver.require(path);
            if (!e.isDir()) {
                throw new SysException(Errno.ENOTDIR, path);
            }
            if ("/".equals(path)) {
                throw new SysException(Errno.EBUSY, path);
            }
            if (!MergedDirectory.isEmpty(sys, e)) {
                throw new SysException(Errno.ENOTEMPTY, path);
            }
            removeName(e);
            resolver.invalidateTree(path);
        } finally {
            w.unlock();
        }
    }

    /**
     * Removes a visible name: its upper object goes, and a whiteout is left only where a lower
     * layer would otherwise show the name again.
     */
    private void removeName(Entry e) throws SysException {
        e = ownName(e);
        String name = nameOf(e.path);
        Entry parent = resolver.require(parentOf(e.path));
        if (e.inUpper()) {
            Stat st = sys.lstat(upper.fd, e.rel());
            if (resolver.visibleBelowUpper(parent, name)) {
                whiteoutOverUpper(e.rel(), e.isDir());
            } else if (e.isDir()) {
                removeUpperDir(e.rel());
            } else {
                sys.unlinkat(upper.fd, e.rel(), 0);
            }
            if (st.nlink <= 1 || e.isDir()) {
                inodes.forget(st);
            }
        } else {
            // shown from a lower layer, so the upper has nothing by this name
            parent = ensureUpperDir(parent);
            newWhiteout(Markers.child(parent.rel(), name));
        }
    }

    /** Replaces the upper object at rel with a whiteout, atomically where the filesystem allows. */
    private void whiteoutOverUpper(String rel, boolean dir) throws SysException {
        trace.whiteout("/" + rel);
        String tmp = work.tempName();
        if (!dir) {
            try {
                sys.renameat2(upper.fd, rel, work.fd, tmp, Sys.RENAME_WHITEOUT);
                sys.unlinkat(work.fd, tmp, 0);
                return;
            } catch (SysException e) {
                if (e.errno() != Errno.EINVAL && e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
        }
        // Build the whiteout beside, then swap it in: the name never shows the lower object.
        work.makeWhiteout(work.fd, tmp);
        sys.renameat2(work.fd, tmp, upper.fd, rel, Sys.RENAME_EXCHANGE);
        WorkDir.removeTree(sys, work.fd, tmp);
    }

    private void makeWhiteout(String rel) throws SysException {
        Stat there = sys.lstatOrNull(upper.fd, rel);
        if (there == null) {
            newWhiteout(rel);
        } else if (!there.isWhiteoutDevice()) {
            whiteoutOverUpper(rel, there.isDirectory());
        }
    }

    /** A whiteout at rel, where the upper has nothing. */
    private void newWhiteout(String rel) throws SysException {
        work.makeWhiteout(upper.fd, rel);
        trace.whiteout("/" + rel);
    }

    /** Removes an upper directory that shows nothing (it may still hold whiteouts). */
    private void removeUpperDir(String rel) throws SysException {
        String tmp = work.tempName();
        sys.renameat2(upper.fd, rel, work.fd, tmp, 0);
        WorkDir.removeTree(sys, work.fd, tmp);
    }

    // ---- rename -------------------------------------------------------------------------------------

    /**
     * rename(2). A directory that takes entries from a lower layer is moved by copying its merged
     * tree up into an opaque upper directory first, then renaming that: where kernel overlayfs
     * (without redirect_dir) and fuse-overlayfs answer EXDEV, this behaves as mv expects, and the
     * upper stays readable by every overlay implementation (no redirect xattr to understand).
     */
    public void rename(String from, String to) throws SysException {
        requireWritable(to);
        String prefix = detachPrefix;
        boolean detaching = prefix != null && nameOf(to).startsWith(prefix);
        PreparedCopy p = detaching || from.equals(to) ? null
                : prepareCopyUp(from, () -> renameChangesAnything(from, to));
        Lock w = lock.writeLock();
        w.lock();
        try {
            if (detaching) {
                detach(from, to);
                return;
            }
            if (!renameChangesAnything(from, to)) {
                return;
            }
            Entry s = ownName(resolver.require(from));
            String toName = nameOf(to);
            if (s.isDir() && s.isMerged()) {
                materialize(s);
            } else if (!s.inUpper()) {
                s = copyUp(s, true, p);
            }
            s = resolver.require(from);
            Entry sParent = resolver.require(parentOf(from));
            boolean srcBelow = resolver.visibleBelowUpper(sParent, nameOf(from));
            Entry dParent = ensureUpperDir(resolver.require(parentOf(to)));
            String toRel = Markers.child(dParent.rel(), toName);
            if (s.isDir()) {
                Entry belowDst = dParent.dirLayers[0].upper ? resolver.scan(dParent, toName, null, 1) : null;
                if (belowDst != null && belowDst.isDir()) {
                    sys.lsetxattrAt(upper.fd, s.rel(), Markers.TRUSTED_OPAQUE, Markers.OPAQUE_YES, 0);
                    trace.opaque(to, "renamed over a lower directory");
                }
                Stat there = sys.lstatOrNull(upper.fd, toRel);
                if (there != null && there.isDirectory()) {
                    removeUpperDir(toRel);
                } else if (there != null) {
                    // a whiteout: a directory cannot be renamed over it, so swap them
                    sys.renameat2(upper.fd, s.rel(), upper.fd, toRel, Sys.RENAME_EXCHANGE);
                    if (!srcBelow) {
                        sys.unlinkat(upper.fd, s.rel(), 0);
                    }
                    srcBelow = false;
                    s = null;
                }
                if (s != null) {
                    sys.renameat2(upper.fd, s.rel(), upper.fd, toRel, 0);
                    if (srcBelow) {
                        makeWhiteout(Markers.child(resolver.require(parentOf(from)).rel(), nameOf(from)));
                    }
                }
            } else {
                try {
                    sys.renameat2(upper.fd, s.rel(), upper.fd, toRel, srcBelow ? Sys.RENAME_WHITEOUT : 0);
                } catch (SysException e) {
                    if (!srcBelow || (e.errno() != Errno.EINVAL && e.errno() != Errno.EOPNOTSUPP)) {
                        throw e;
                    }
                    sys.renameat2(upper.fd, s.rel(), upper.fd, toRel, 0);
                    makeWhiteout(s.rel());
                }
            }
            resolver.invalidateTree(from);
            resolver.invalidateTree(to);
        } finally {
            w.unlock();
            donePreparing(p);
        }
    }

    /**
     * rename(2)'s checks before anything moves: throws its error, or says false where the rename
     * does nothing (a name onto itself, or onto another name of the same file). Under a lock.
     */
    private boolean renameChangesAnything(String from, String to) throws SysException {
        Entry s = resolver.require(from);
        if ("/".equals(from) || "/".equals(to)) {
            throw new SysException(Errno.EBUSY, from);
        }
        Entry dParent = resolver.require(parentOf(to));
        if (!dParent.isDir()) {
            throw new SysException(Errno.ENOTDIR, to);
        }
        if (from.equals(to)) {
            return false;
        }
        if (to.startsWith(from + "/")) {
            throw new SysException(Errno.EINVAL, to);
        }
        if (Markers.isMarkerName(nameOf(to))) {
            throw new SysException(Errno.EINVAL, to);
        }
        Entry d = resolver.lookup(to);
        if (d != null) {
            if (s.isDir() && !d.isDir()) {
                throw new SysException(Errno.ENOTDIR, to);
            }
            if (!s.isDir() && d.isDir()) {
                throw new SysException(Errno.EISDIR, to);
            }
            if (d.isDir() && !MergedDirectory.isEmpty(sys, d)) {
                throw new SysException(Errno.ENOTEMPTY, to);
            }
            if (!s.isDir()) {
                Stat a = present(s, sys.lstat(s.top.fd, s.rel()));
                Stat b = present(d, sys.lstat(d.top.fd, d.rel()));
                return a.ino != b.ino; // two names of one file: rename(2) does nothing
            }
        }
        return true;
    }

    /**
     * Makes a rename to a name starting with prefix take the source name out of the union while its
     * object stays reachable under the new path, until that path is unlinked. libfuse 2's
     * high-level API renames a file that is unlinked while open to ".fuse_hidden..." and unlinks
     * that name at the last close; with this, such files never show in a directory (nor land in
     * the upper), and fstat of the open file still works and reports the right link count.
     */
    public void detachNamesStartingWith(String prefix) {
        this.detachPrefix = prefix;
    }

    private void detach(String from, String to) throws SysException {
        Entry s = ownName(resolver.require(from));
        if (s.isDir()) {
            throw new SysException(Errno.EISDIR, from);
        }
        Entry parent = resolver.require(parentOf(from));
        if (s.inUpper()) {
            boolean below = resolver.visibleBelowUpper(parent, nameOf(from));
            String tmp = work.tempName();
            sys.renameat2(upper.fd, s.rel(), work.fd, tmp, 0);
            if (below) {
                makeWhiteout(s.rel());
            }
            resolver.detach(new Entry(to, tmp, workLayer, s.type, null, null, true));
        } else {
            // the lower object stays where it is; only its name goes
            parent = ensureUpperDir(parent);
            makeWhiteout(Markers.child(parent.rel(), nameOf(from)));
            resolver.detach(new Entry(to, s.rel(), s.top, s.type, null, null, true));
        }
        resolver.invalidate(from);
    }

    /** A detached object in a lower is copied into the workdir before it changes. */
    private Entry copyDetachedToWork(Entry e, boolean withData) throws SysException {
        if (e.top == workLayer) {
            return e;
        }
        String tmp = work.tempName();
        copyUp.copyTo(e.top, e.rel(), sys.lstat(e.top.fd, e.rel()), withData, work.fd, tmp);
        Entry moved = new Entry(e.path, tmp, workLayer, e.type, null, null, true);
        resolver.detach(moved);
        return moved;
    }

    /**
     * Copies every object of a merged directory tree up and marks each of its directories opaque,
     * so it no longer depends on the lowers. Each step leaves the view unchanged, so a crash at any
     * point is harmless.
     */
    private void materialize(Entry dir) throws SysException {
        dir = ensureUpperDir(dir);
        for (DirItem item : MergedDirectory.list(sys, dir, null)) {
            Entry child = resolver.require(childPath(dir.path, item.name));
            if (child.isDir() && child.isMerged()) {
                materialize(child);
            } else if (!child.isDir() && (!child.inUpper() || child.alias)) {
                copyUp(ownName(child), true);
            }
        }
        dir = resolver.require(dir.path);
        if (dir.isMerged()) {
            String dirRel = dir.rel();
            Stat before = sys.lstat(upper.fd, dirRel);
            sys.lsetxattrAt(upper.fd, dirRel, Markers.TRUSTED_OPAQUE, Markers.OPAQUE_YES, 0);
            trace.opaque(dir.path, "copied up whole to be renamed");
            for (io.layerfs.sys.DirEntry d : sys.listDir(upper.fd, dirRel)) {
                String rel = Markers.child(dirRel, d.name);
                Stat st = sys.lstatOrNull(upper.fd, rel);
                if (st != null && (Markers.isMarkerName(d.name)
                        || Markers.isWhiteoutObject(sys, upper, rel, st, dir.xattrWhiteouts[0]))) {
                    sys.unlinkat(upper.fd, rel, 0);
                }
            }
            restoreTimes(dirRel, before);
            resolver.invalidateTree(dir.path);
        }
    }

    // ---- attributes ---------------------------------------------------------------------------------

    public void chmod(String path, int mode) throws SysException {
        modify(path, true, e -> sys.fchmodat(e.top.fd, e.rel(), mode & 07777));
    }

    /** chown without following symlinks; -1 leaves uid or gid unchanged. */
    public void chown(String path, int uid, int gid) throws SysException {
        modify(path, true, e -> sys.lchownat(e.top.fd, e.rel(), uid, gid));
    }

    public void truncate(String path, long size) throws SysException {
        modify(path, size > 0, e -> {
            if (e.isDir()) {
                throw new SysException(Errno.EISDIR, path);
            }
            int fd = sys.openat(e.top.fd, e.rel(), Sys.O_WRONLY | Sys.O_NOFOLLOW, 0);
            try {
                sys.ftruncate(fd, size);
            } finally {
                sys.close(fd);
            }
        });
    }

    /**
     * Clears what a write or truncate by a caller without CAP_FSETID clears (the VFS's
     * should_remove_suid): the set-user-ID bit, and the set-group-ID bit of a group-executable
     * file. For a binding that leaves it to the file system (FUSE_HANDLE_KILLPRIV_V2): this server
     * writes with its own capabilities, which keep the bits. A security.capability xattr needs no
     * help: the layer's file system removes it at any write, truncate or chown. Returns whether
     * the mode changed.
     */
    public boolean killSetIdBits(long fh) throws SysException {
        int newMode = withoutSetId(sys.fstat((int) fh).mode);
        if (newMode < 0) {
            return false;
        }
        sys.fchmod((int) fh, newMode);
        return true;
    }

    /** {@link #killSetIdBits(long)} by path, for a truncate by path (copied up by then). */
    public boolean killSetIdBits(String path) throws SysException {
        int newMode = withoutSetId(getattr(path).mode);
        if (newMode < 0) {
            return false;
        }
        chmod(path, newMode);
        return true;
    }

    /** The permission bits without the set-ID bits a write clears, or -1 when there are none. */
    private static int withoutSetId(int mode) {
        if ((mode & Stat.S_IFMT) != Stat.S_IFREG) {
            return -1;
        }
        int kill = mode & 04000;
        if ((mode & 02010) == 02010) {
            kill |= 02000;
        }
        return kill == 0 ? -1 : mode & 07777 & ~kill;
    }

    /** utimensat without following symlinks; nsec values may be Sys.UTIME_NOW or Sys.UTIME_OMIT. */
    public void utimens(String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        modify(path, true, e -> sys.lutimensat(e.top.fd, e.rel(), aSec, aNsec, mSec, mNsec));
    }

    public byte[] getxattr(String path, String name) throws SysException {
        if (Markers.isPrivateXattr(name)) {
            throw new SysException(Errno.ENODATA, name);
        }
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            byte[] v = sys.lgetxattrAt(e.top.fd, e.rel(), name);
            if (v == null) {
                throw new SysException(Errno.ENODATA, name);
            }
            return v;
        } finally {
            r.unlock();
        }
    }

    public List<String> listxattr(String path) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            List<String> names = sys.llistxattrAt(e.top.fd, e.rel());
            names.removeIf(Markers::isPrivateXattr);
            return names;
        } finally {
            r.unlock();
        }
    }

    public void setxattr(String path, String name, byte[] value, int flags) throws SysException {
        if (Markers.isPrivateXattr(name)) {
            throw new SysException(Errno.EPERM, name);
        }
        modify(path, true, e -> sys.lsetxattrAt(e.top.fd, e.rel(), name, value, flags));
    }

    public void removexattr(String path, String name) throws SysException {
        if (Markers.isPrivateXattr(name)) {
            throw new SysException(Errno.ENODATA, name);
        }
        modify(path, true, e -> sys.lremovexattrAt(e.top.fd, e.rel(), name));
    }

    /** A change to the object of an entry whose object is in the upper (or the workdir). */
    @FunctionalInterface
    private interface Change {
        void apply(Entry e) throws SysException;
    }

    /**
     * Applies change to path's object, copying it up first (directories without their contents).
     * An object already in the upper changes under the read lock: the union's shape stays the same,
     * so lookups and other such changes go on; only a copy-up takes the write lock.
     */
    private void modify(String path, boolean withData, Change change) throws SysException {
        requireWritable(path);
        if (changeInPlace(path, change)) {
            return;
        }
        PreparedCopy p = withData ? prepareCopyUp(path) : null;
        try {
            if (p == null && changeInPlace(path, change)) {
                return; // copied up by another request meanwhile
            }
            Lock w = lock.writeLock();
            w.lock();
            try {
                Entry e = resolver.require(path);
                change.apply(e.isDir() ? ensureUpperDir(e) : copyUp(e, withData, p));
            } finally {
                w.unlock();
            }
        } finally {
            donePreparing(p);
        }
    }

    /** Applies change under the read lock if path's object can change in place; false if it cannot. */
    private boolean changeInPlace(String path, Change change) throws SysException {
        Lock r = lock.readLock();
        r.lock();
        try {
            Entry e = resolver.require(path);
            if (!isUp(e)) {
                return false;
            }
            change.apply(e);
            return true;
        } finally {
            r.unlock();
        }
    }

    /** Whether e's object can change in place: it is in the upper, or detached into the workdir. */
    private boolean isUp(Entry e) {
        return e.isDir() ? e.dirLayers[0].upper : e.inUpper() || e.top == workLayer;
    }

    // ---- copy-up ------------------------------------------------------------------------------------

    /** The entry with its object in the upper, copying it (and its parents) up if needed. */
    private Entry copyUp(Entry e, boolean withData) throws SysException {
        return copyUp(e, withData, null);
    }

    /**
     * The same, using prepared (from {@link #prepareCopyUp}, may be null) if it is a copy of e's
     * object; otherwise the copy is made here, under the write lock.
     */
    private Entry copyUp(Entry e, boolean withData, PreparedCopy prepared) throws SysException {
        if (e.inUpper()) {
            return e;
        }
        if (e.detached) {
            return copyDetachedToWork(e, withData);
        }
        if (e.isDir()) {
            return ensureUpperDir(e);
        }
        ensureUpperDir(resolver.require(parentOf(e.path)));
        Stat st = copyObject(e, withData, prepared);
        resolver.invalidate(e.path);
        if (st.nlink > 1) {
            linkUpOtherNames(e, st);
        }
        Entry up = resolver.require(e.path);
        if (st.isRegular()) {
            pointReadersAtCopy(e, st, up);
        }
        return up;
    }

    /**
     * After a multiply-linked lower file was copied up, links each of its other visible names to
     * the copy, so they stay one file.
     */
    private void linkUpOtherNames(Entry copied, Stat lowerStat) throws SysException {
        for (String rel : hardLinks.namesOf(copied.top, lowerStat.ino)) {
            String path = "/" + rel;
            if (path.equals(copied.path)) {
                continue;
            }
            Entry other;
            try {
                other = resolver.lookup(path);
            } catch (SysException e) {
                if (e.errno() != Errno.ENOTDIR) {
                    throw e;
                }
                continue; // a file of a higher layer now stands where a parent directory was
            }
            if (other == null || other.top != copied.top) {
                continue;
            }
            Stat st = sys.lstatOrNull(other.top.fd, other.rel());
            if (st == null || st.ino != lowerStat.ino || st.dev != lowerStat.dev) {
                continue;
            }
            String parentRel = ensureUpperDir(resolver.require(parentOf(path))).rel();
            Stat parent = sys.lstat(upper.fd, parentRel);
            sys.linkat(upper.fd, copied.rel(), upper.fd, other.rel());
            restoreTimes(parentRel, parent);
            resolver.invalidate(path);
        }
    }

    /** The directory entry with a directory in the upper, copying it and its ancestors up. */
    private Entry ensureUpperDir(Entry dir) throws SysException {
        if (dir.dirLayers[0].upper) {
            return dir;
        }
        ensureUpperDir(resolver.require(parentOf(dir.path)));
        copyObject(dir, true, null);
        resolver.invalidate(dir.path);
        return resolver.require(dir.path);
    }

    /**
     * For a name shown from an upper copy made under another name ({@link Entry#alias}): links the
     * copy into this name's own place, so the name can change on its own. Other entries unchanged.
     */
    private Entry ownName(Entry e) throws SysException {
        if (!e.alias) {
            return e;
        }
        String parentRel = ensureUpperDir(resolver.require(parentOf(e.path))).rel();
        String rel = Markers.child(parentRel, nameOf(e.path));
        Stat parent = sys.lstat(upper.fd, parentRel);
        sys.linkat(upper.fd, e.rel(), upper.fd, rel);
        restoreTimes(parentRel, parent);
        resolver.invalidate(e.path);
        return resolver.require(e.path);
    }

    /**
     * Copies the object of e up, placing prepared if it is a copy of that object; returns its stat
     * in the layer it came from.
     */
    private Stat copyObject(Entry e, boolean withData, PreparedCopy prepared) throws SysException {
        Stat st = sys.lstat(e.top.fd, e.rel());
        long number = inodes.of(st);
        String parentRel = parentRel(e.rel());
        Stat parent = sys.lstat(upper.fd, parentRel);
        CopyUp.Built built;
        if (prepared != null && withData && prepared.isCopyOf(e, st)) {
            built = prepared.built;
            prepared.placed = true; // placed now, or removed by place if that fails
        } else {
            built = copyUp.build(e.top, e.rel(), st, withData);
        }
        copyUp.place(built, upper.fd, e.rel());
        CopyUp.Moved moved = built.moved;
        restoreTimes(parentRel, parent);
        trace.copyUp(e.path, e.top.toString(), typeName(st), moved.bytes, moved.method);
        inodes.copiedUp(sys.lstat(upper.fd, e.rel()), number);
        copyUps.incrementAndGet();
        return st;
    }

    /**
     * The slow half of a copy-up of path's lower file, run before its caller takes the write lock:
     * builds the copy, data and all, synced, in the workdir while holding no lock of the union, so
     * lookups, reads and changes elsewhere go on meanwhile. The caller hands the result to
     * {@link #copyUp(Entry, boolean, PreparedCopy)} under the write lock, which checks that the
     * name still shows the same lower file and renames the copy into place (a name removed,
     * replaced or copied up meanwhile leaves the copy unused), and then always to
     * {@link #donePreparing}, after unlocking.
     *
     * <p>One lower file is copied by one request at a time: another that wants it waits, holding
     * no lock, until the first is done, and then finds it in the upper (or copies it itself if the
     * first did not place its copy).
     *
     * <p>Null where there is nothing to prepare: no such name, a name already in the upper, not a
     * regular file with data, or a caller that holds the lock (its copy-up runs under the write
     * lock, which is always correct, only slower for the others).
     */
    private PreparedCopy prepareCopyUp(String path) throws SysException {
        return prepareCopyUp(path, () -> true);
    }

    /** What an operation checks before it copies up, under the read lock: false or a throw, no copy. */
    @FunctionalInterface
    private interface Precondition {
        boolean holds() throws SysException;
    }

    /**
     * {@link #prepareCopyUp(String)} for an operation that may fail or do nothing (a rename onto a
     * directory, a link onto a taken name): its precondition is checked first, under the read lock,
     * and where it fails nothing is copied. The operation checks again under the write lock and
     * reports the failure.
     */
    private PreparedCopy prepareCopyUp(String path, Precondition precondition) throws SysException {
        if (upper == null || lock.getReadHoldCount() > 0 || lock.isWriteLockedByCurrentThread()) {
            return null;
        }
        while (true) {
            PreparedCopy p;
            Lock r = lock.readLock();
            r.lock();
            try {
                Entry e = resolver.lookup(path);
                if (e == null || e.type != Stat.S_IFREG || isUp(e) || e.detached || !precondition.holds()) {
                    return null;
                }
                Stat st = sys.lstat(e.top.fd, e.rel());
                if (!st.isRegular() || st.size == 0) {
                    return null; // nothing slow to copy
                }
                p = new PreparedCopy(e.top, e.rel(), st);
            } catch (SysException e) {
                return null; // the operation itself, under the lock, reports what is wrong
            } finally {
                r.unlock();
            }
            PreparedCopy other = copying.putIfAbsent(p.key, p);
            if (other == null) {
                try {
                    p.built = copyUp.build(p.from, p.rel, p.lower, true);
                } catch (SysException | RuntimeException e) {
                    donePreparing(p);
                    throw e;
                }
                return p;
            }
            try {
                other.done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SysException(Errno.EINTR, path);
            }
        }
    }

    /** Ends what {@link #prepareCopyUp} began: removes an unplaced copy and lets waiters go on. */
    private void donePreparing(PreparedCopy p) {
        if (p == null) {
            return;
        }
        try {
            if (p.built != null && !p.placed) {
                copyUp.discard(p.built);
            }
        } finally {
            copying.remove(p.key, p);
            p.done.countDown();
        }
    }

    /**
     * A lower object, the key of {@link #copying}. Not a record: a record's equals and hashCode
     * are bootstrapped through method handles at their first call, some 60 ms of CPU in a fresh
     * server at its first copy-up.
     */
    private static final class LowerObject {
        private final long dev;
        private final long ino;

        LowerObject(long dev, long ino) {
            this.dev = dev;
            this.ino = ino;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LowerObject && ((LowerObject) o).dev == dev && ((LowerObject) o).ino == ino;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(dev * 31 + ino);
        }
    }

    /** A copy of a lower file built in the workdir outside the lock (see {@link #prepareCopyUp}). */
    private static final class PreparedCopy {
        final LowerObject key;
        final Layer from;
        final String rel;
        /** The lower file's stat when the copy began. */
        final Stat lower;
        /** Opened when the copy is placed or dropped. */
        final CountDownLatch done = new CountDownLatch(1);
        /** Set before the copy is handed on; touched by the preparing thread only. */
        CopyUp.Built built;
        boolean placed;

        PreparedCopy(Layer from, String rel, Stat lower) {
            this.key = new LowerObject(lower.dev, lower.ino);
            this.from = from;
            this.rel = rel;
            this.lower = lower;
        }

        /**
         * Whether this is a copy of e's object as it is now (st): the same lower file, unchanged
         * since the copy began. Lowers are not meant to change under a mount; a file that did
         * anyway is copied again.
         */
        boolean isCopyOf(Entry e, Stat st) {
            return e.top == from && e.rel().equals(rel) && !e.detached && st.dev == lower.dev && st.ino == lower.ino
                    && st.size == lower.size && st.mtimeSec == lower.mtimeSec && st.mtimeNsec == lower.mtimeNsec
                    && st.ctimeSec == lower.ctimeSec && st.ctimeNsec == lower.ctimeNsec;
        }
    }

    /**
     * Puts back the times of an upper directory that changed only because the union's bookkeeping
     * touched it (a copy-up, a link-up, a dropped whiteout): as overlayfs does, those are not
     * changes the caller made.
     */
    private void restoreTimes(String rel, Stat before) throws SysException {
        sys.lutimensat(upper.fd, rel, before.atimeSec, before.atimeNsec, before.mtimeSec, before.mtimeNsec);
    }

    private static String typeName(Stat st) {
        switch (st.type()) {
            case Stat.S_IFREG: return "file";
            case Stat.S_IFDIR: return "directory";
            case Stat.S_IFLNK: return "symlink";
            case Stat.S_IFIFO: return "fifo";
            case Stat.S_IFSOCK: return "socket";
            default: return "device";
        }
    }

    private static String parentRel(String rel) {
        int slash = rel.lastIndexOf('/');
        return slash < 0 ? "." : rel.substring(0, slash);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private void requireWritable(String path) throws SysException {
        if (upper == null) {
            throw new SysException(Errno.EROFS, path);
        }
    }

    static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    static String childPath(String dir, String name) {
        return "/".equals(dir) ? "/" + name : dir + "/" + name;
    }

    @Override
    public void close() {
        // files the binding never released: a RELEASE still queued when the mount went away
        for (Integer fd : openFiles) {
            if (openFiles.remove(fd)) {
                sys.close(fd);
            }
        }
        for (Layer l : layers) {
            sys.closeDirectory(l.fd);
        }
        if (work != null) {
            work.close();
        }
    }
}
