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

    /**
     * Copies the object at rel in layer from into the upper at the same rel (whose parent must
     * exist in the upper). With withData false a regular file is copied empty (open with O_TRUNC).
     */
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

    Moved copy(Layer from, String rel, Stat st, boolean withData) throws SysException {
        return copyTo(from, rel, st, withData, upper.fd, rel);
    }

    /** The same, to any place on the upper's filesystem (dirfd/name). */
    Moved copyTo(Layer from, String rel, Stat st, boolean withData, int dirfd, String name) throws SysException {
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
            sys.renameat2(work.fd, tmp, dirfd, name, 0);
            return moved;
        } catch (SysException e) {
            try {
                WorkDir.removeTree(sys, work.fd, tmp);
            } catch (SysException ignored) {
                // the workdir is cleared at the next mount
            }
            throw e;
        }
    }

    private Moved copyFile(Layer from, String rel, Stat st, String tmp, boolean withData) throws SysException {
        int src = sys.openat(from.fd, rel, Sys.O_RDONLY | Sys.O_NOFOLLOW, 0);
        try {
            int dst = sys.openat(work.fd, tmp, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0600);
            try {
                Moved moved = Moved.NOTHING;
                if (withData && st.size > 0) {
                    moved = copyData(src, dst, st.size);
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

    private Moved copyData(int src, int dst, long size) throws SysException {
        try {
            sys.ficlone(dst, src);
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
            if (!copyRange(src, dst, data, hole - data)) {
                method = "read/write";
            }
            bytes += hole - data;
            off = hole;
        }
        sys.ftruncate(dst, size);
        return new Moved(bytes, method);
    }

    /** Copies len bytes at off; true if copy_file_range did it, false if it fell back to read/write. */
    private boolean copyRange(int src, int dst, long off, long len) throws SysException {
        long done = 0;
        try {
            while (done < len) {
                long n = sys.copyFileRange(src, off + done, dst, off + done, len - done);
                if (n == 0) {
                    return true;
                }
                done += n;
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
        }
        return false;
    }
}
