package io.layerfs.union;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Copies an object from a lower layer into the upper before its first modification
 * (overlayfs.rst, "Non-directories" and "Copy up"). The copy is built in the workdir with data,
 * owner, xattrs (overlay-private ones excepted), mode and nanosecond times, synced, and renamed
 * into place: a crash leaves the lower version or the complete copy, never a partial one.
 *
 * <p>Data is shared with FICLONE where the filesystem can (btrfs, xfs), else moved with
 * copy_file_range; holes are skipped with SEEK_DATA/SEEK_HOLE so sparse files stay sparse.
 */
final class CopyUp {
    private static final int BUFFER = 1 << 20;
    /**
     * The most one copy_file_range call moves: a bound on how long a copy goes without looking
     * at its progress hook (and on one uninterruptible syscall).
     */
    static final long CHUNK = 8L << 20;

    private final Sys sys;
    private final Layer upper;
    private final WorkDir work;
    private final boolean sync;

    CopyUp(Sys sys, Layer upper, WorkDir work, boolean sync) {
        this.sys = sys;
        this.upper = upper;
        this.work = work;
        this.sync = sync;
    }

    /** How a copy-up moved the data: bytes (holes not counted) and the mechanism. */
    static final class Moved {
        static final Moved NOTHING = new Moved(0, "none");
        final long bytes;
        final String method;

        Moved(long bytes, String method) {
            this.bytes = bytes;
            this.method = method;
        }
    }

    /** Told how far a file's data copy has got, after each chunk (a test hook; null in production). */
    @FunctionalInterface
    interface Progress {
        void copied(String rel, long bytes);
    }

    /** A copy built in the workdir, not yet in place: {@link #place}d or {@link #discard}ed. */
    static final class Built {
        /** Its name in WORKDIR/work. */
        final String tmp;
        final Moved moved;

        Built(String tmp, Moved moved) {
            this.tmp = tmp;
            this.moved = moved;
        }
    }

    private volatile Progress progress;

    void progress(Progress p) {
        this.progress = p;
    }

    /**
     * Copies the object at rel in layer from into the upper at the same rel (whose parent must
     * exist in the upper). With withData false a regular file is copied empty (open with O_TRUNC).
     */
    Moved copy(Layer from, String rel, Stat st, boolean withData) throws SysException {
        return copyTo(from, rel, st, withData, upper.fd, rel);
    }

    /** The same, to any place on the upper's filesystem (dirfd/name). */
    Moved copyTo(Layer from, String rel, Stat st, boolean withData, int dirfd, String name) throws SysException {
        Built b = build(from, rel, st, withData);
        place(b, dirfd, name);
        return b.moved;
    }

    /**
     * Builds a complete, synced copy of the object at rel in layer from in the workdir, where no
     * lookup sees it. Touches nothing but the lower object and its own new temp name, so it needs
     * no lock of the union: the slow part of a copy-up runs while other requests go on.
     */
    Built build(Layer from, String rel, Stat st, boolean withData) throws SysException {
        String tmp = work.tempName();
        Moved moved = Moved.NOTHING;
        try {
            switch (st.type()) {
                case Stat.S_IFREG:
                    moved = copyFile(from, rel, st, tmp, withData);
                    break;
                case Stat.S_IFDIR:
                    sys.mkdirat(work.fd, tmp, 0700);
                    finish(from, rel, st, tmp);
                    break;
                case Stat.S_IFLNK:
                    sys.symlinkat(sys.readlinkat(from.fd, rel), work.fd, tmp);
                    finish(from, rel, st, tmp);
                    break;
                default:
                    sys.mknodat(work.fd, tmp, st.mode, st.rdev);
                    finish(from, rel, st, tmp);
                    break;
            }
            return new Built(tmp, moved);
        } catch (SysException e) {
            discard(tmp);
            throw e;
        }
    }

    /** Renames a built copy into dirfd/name: the one step that makes it visible. */
    void place(Built b, int dirfd, String name) throws SysException {
        try {
            sys.renameat2(work.fd, b.tmp, dirfd, name, 0);
        } catch (SysException e) {
            discard(b.tmp);
            throw e;
        }
    }

    /** Removes a built copy that will not be placed. */
    void discard(Built b) {
        discard(b.tmp);
    }

    private void discard(String tmp) {
        try {
            WorkDir.removeTree(sys, work.fd, tmp);
        } catch (SysException ignored) {
            // the workdir is cleared at the next mount
        }
    }

    private Moved copyFile(Layer from, String rel, Stat st, String tmp, boolean withData) throws SysException {
        int src = sys.openat(from.fd, rel, Sys.O_RDONLY | Sys.O_NOFOLLOW, 0);
        try {
            int dst = sys.openat(work.fd, tmp, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0600);
            try {
                Moved moved = Moved.NOTHING;
                if (withData && st.size > 0) {
                    moved = copyData(src, dst, st.size, rel);
                }
                if (st.uid != 0 || st.gid != 0) {
                    sys.fchown(dst, st.uid, st.gid);
                }
                for (String name : sys.flistxattr(src)) {
                    copyXattr(name, sys.fgetxattr(src, name), null, dst);
                }
                if (from.index > 0) {
                    recordOrigin(dst, rel);
                }
                sys.fchmod(dst, st.permissions());
                if (sync) {
                    sys.fsync(dst, false);
                }
                sys.futimens(dst, st.atimeSec, st.atimeNsec, st.mtimeSec, st.mtimeNsec);
                return moved;
            } finally {
                sys.close(dst);
            }
        } finally {
            sys.close(src);
        }
    }

    /**
     * Names the lower file a copy came from, as fuse-overlayfs does, so that the copy shows the
     * lower file's st_ino after a remount too ({@link InodeNumbers}). An upper filesystem without
     * user xattrs only loses that.
     */
    private void recordOrigin(int dst, String rel) throws SysException {
        try {
            sys.fsetxattr(dst, ForeignOrigins.FUSE_OVERLAYFS_ORIGIN, rel.getBytes(StandardCharsets.UTF_8), 0);
        } catch (SysException e) {
            if (e.errno() != Errno.EOPNOTSUPP && e.errno() != Errno.EPERM) {
                throw e;
            }
        }
    }

    /** Owner, xattrs, mode and times of a directory, symlink or special file built at tmp. */
    private void finish(Layer from, String rel, Stat st, String tmp) throws SysException {
        sys.lchownat(work.fd, tmp, st.uid, st.gid);
        List<String> names = sys.llistxattrAt(from.fd, rel);
        for (String name : names) {
            copyXattr(name, sys.lgetxattrAt(from.fd, rel, name), tmp, -1);
        }
        if (!st.isSymlink()) {
            sys.fchmodat(work.fd, tmp, st.permissions());
        }
        sys.lutimensat(work.fd, tmp, st.atimeSec, st.atimeNsec, st.mtimeSec, st.mtimeNsec);
    }

    /** Sets name on dstFd, or on WORKDIR/work/dstTmp when dstFd is -1. */
    private void copyXattr(String name, byte[] value, String dstTmp, int dstFd) throws SysException {
        if (value == null || Markers.isPrivateXattr(name)) {
            return;
        }
        try {
            if (dstFd >= 0) {
                sys.fsetxattr(dstFd, name, value, 0);
            } else {
                sys.lsetxattrAt(work.fd, dstTmp, name, value, 0);
            }
        } catch (SysException e) {
            // An upper filesystem without support for this namespace (e.g. security.* on tmpfs)
            // cannot hold the attribute; overlayfs skips it the same way.
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw e;
            }
        }
    }

    /**
     * Copies size bytes of data from src to dst (empty): reflinked where the filesystem can,
     * else by copy_file_range over the data extents, read/write where that is refused (EXDEV
     * across filesystems); dst ends at size. rel names the file for the progress hook.
     */
    Moved copyData(int src, int dst, long size, String rel) throws SysException {
        try {
            sys.ficlone(dst, src);
            reached(rel, size);
            return new Moved(size, "ficlone");
        } catch (SysException e) {
            // not a reflinking filesystem, or src and dst on different ones: copy below
        }
        long off = 0;
        long bytes = 0;
        String method = "copy_file_range";
        boolean sparseAware = true;
        while (off < size) {
            long data;
            long hole;
            if (sparseAware) {
                try {
                    data = sys.lseek(src, off, Sys.SEEK_DATA);
                } catch (SysException e) {
                    sparseAware = false;
                    continue;
                }
                if (data < 0) {
                    break;
                }
                hole = sys.lseek(src, data, Sys.SEEK_HOLE);
                if (hole < 0) {
                    hole = size;
                }
            } else {
                data = off;
                hole = size;
            }
            if (!copyRange(src, dst, data, hole - data, rel)) {
                method = "read/write";
            }
            bytes += hole - data;
            off = hole;
        }
        sys.ftruncate(dst, size);
        return new Moved(bytes, method);
    }

    /** Copies len bytes at off; true if copy_file_range did it, false if it fell back to read/write. */
    private boolean copyRange(int src, int dst, long off, long len, String rel) throws SysException {
        long done = 0;
        try {
            while (done < len) {
                long n = sys.copyFileRange(src, off + done, dst, off + done, Math.min(CHUNK, len - done));
                if (n == 0) {
                    return true;
                }
                done += n;
                reached(rel, off + done);
            }
            return true;
        } catch (SysException e) {
            if (e.errno() != Errno.EXDEV && e.errno() != Errno.EINVAL && e.errno() != Errno.EOPNOTSUPP
                    && e.errno() != Errno.ENOSYS) {
                throw e;
            }
        }
        byte[] buf = new byte[(int) Math.min(BUFFER, Math.max(len - done, 1))];
        while (done < len) {
            int n = sys.pread(src, buf, (int) Math.min(buf.length, len - done), off + done);
            if (n == 0) {
                return false;
            }
            int w = sys.pwrite(dst, buf, n, off + done);
            while (w < n) {
                w += sys.pwrite(dst, java.util.Arrays.copyOfRange(buf, w, n), n - w, off + done + w);
            }
            done += n;
            reached(rel, off + done);
        }
        return false;
    }

    private void reached(String rel, long offset) {
        Progress p = progress;
        if (p != null) {
            p.copied(rel, offset);
        }
    }
}
