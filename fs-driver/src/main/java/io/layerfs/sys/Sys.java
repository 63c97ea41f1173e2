package io.layerfs.sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The system calls of the union engine, relative to directory file descriptors and never following a
 * final symlink. Every failure becomes a {@link SysException} carrying the kernel's errno, so the
 * engine can pass it to the caller unchanged. Thread-safe: scratch buffers are per thread.
 *
 * <p>The calls are JNI functions ({@link Native}); paths and names are encoded as UTF-8.
 */
public final class Sys {
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECT = 040000;
    public static final int O_LARGEFILE = 0100000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;
    /** An unnamed file in the directory opened (with O_RDWR or O_WRONLY); includes O_DIRECTORY. */
    public static final int O_TMPFILE = 020200000;

    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;
    public static final int RENAME_WHITEOUT = 4;

    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;

    public static final long UTIME_NOW = (1L << 30) - 1;
    public static final long UTIME_OMIT = (1L << 30) - 2;

    public static final int SEEK_SET = 0;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    public static final int LOCK_SH = 1;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;

    /** ioctl(dest, FICLONE, src): share all extents of src (btrfs, xfs reflink). */
    private static final long FICLONE = 0x40049409L;

    private static final int DIRENT_BUFFER = 64 * 1024;

    private static final Sys INSTANCE = new Sys();

    /** getdents64's buffer, per thread: a direct buffer and its address. */
    private static final class Dirents {
        final ByteBuffer buf = ByteBuffer.allocateDirect(DIRENT_BUFFER).order(ByteOrder.nativeOrder());
        final long address = Native.address(buf);
    }

    private final ThreadLocal<Dirents> dirents = ThreadLocal.withInitial(Dirents::new);

    /**
     * What the stat and xattr calls fill before their result is made from it, per thread, so a stat
     * allocates its Stat and nothing more (a getattr through the /dev/fuse binding allocated 544
     * bytes, 144 of them this array).
     */
    private static final class Scratch {
        final long[] stat = new long[16];
        final byte[] xattr = new byte[256];
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private Sys() {
        String os = System.getProperty("os.name");
        String arch = System.getProperty("os.arch");
        if (!"Linux".equals(os) || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            throw new UnsupportedOperationException("layerfs supports Linux on x86_64 only, not " + os + "/" + arch);
        }
        // loads the JNI library now, so that a missing one fails here and not in the first call
        Native.geteuid();
    }

    public static Sys get() {
        return INSTANCE;
    }

    /** A path or name as the JNI functions take it. */
    private static byte[] c(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The exception for a call that returned r = -errno. */
    private static SysException fail(long r, String call, String path) {
        return new SysException((int) -r, path == null ? call : call + " " + path);
    }

    // ---- stat ---------------------------------------------------------------------------------------

    /** lstat relative to dirfd. */
    public Stat lstat(int dirfd, String path) throws SysException {
        long[] f = scratch.get().stat;
        int r = Native.fstatat(dirfd, c(path), AT_SYMLINK_NOFOLLOW, f);
        if (r != 0) {
            throw fail(r, "fstatat", path);
        }
        return stat(f);
    }

    /** lstat relative to dirfd, or null when the name does not exist (ENOENT or ENOTDIR on the way). */
    public Stat lstatOrNull(int dirfd, String path) throws SysException {
        long[] f = scratch.get().stat;
        int r = Native.fstatat(dirfd, c(path), AT_SYMLINK_NOFOLLOW, f);
        if (r != 0) {
            if (r == -Errno.ENOENT || r == -Errno.ENOTDIR) {
                return null;
            }
            throw fail(r, "fstatat", path);
        }
        return stat(f);
    }

    public Stat fstat(int fd) throws SysException {
        long[] f = scratch.get().stat;
        int r = Native.fstat(fd, f);
        if (r != 0) {
            throw fail(r, "fstat", null);
        }
        return stat(f);
    }

    /** A Stat of the 16 fields the JNI functions fill in, in the constructor's order. */
    private static Stat stat(long[] f) {
        return new Stat(f[0], f[1], f[2], (int) f[3], (int) f[4], (int) f[5], f[6], f[7], f[8], f[9], f[10],
                f[11], f[12], f[13], f[14], f[15]);
    }

    /** statvfs of the filesystem holding fd: {bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax}. */
    public long[] fstatvfs(int fd) throws SysException {
        long[] f = new long[11];
        int r = Native.fstatvfs(fd, f);
        if (r != 0) {
            throw fail(r, "fstatvfs", null);
        }
        return f;
    }

    // ---- files --------------------------------------------------------------------------------------

    public int openat(int dirfd, String path, int flags, int mode) throws SysException {
        int fd = Native.openat(dirfd, c(path), flags | O_CLOEXEC, mode);
        if (fd < 0) {
            throw fail(fd, "openat", path);
        }
        return fd;
    }

    public void close(int fd) {
        Native.close(fd);
    }

    /** Closes a directory named by {@link #nameDirectory}, forgetting its name first. */
    public void closeDirectory(int fd) {
        named.remove(fd);
        Native.close(fd);
    }

    /**
     * Absolute host paths of long-lived directory descriptors (the layers' roots), for the xattr calls
     * below: a walk from / through the dentry cache costs a fraction of resolving /proc/self/fd/N,
     * which was most of a getxattr (asked on every write, for security.capability). Forgotten by
     * closeDirectory, so the hot path's close(fd) stays a plain close.
     */
    private final java.util.concurrent.ConcurrentHashMap<Integer, String> named =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Says that dirfd is the directory at absolutePath, which nothing renames while dirfd is open. */
    public void nameDirectory(int dirfd, String absolutePath) {
        if (absolutePath.startsWith("/")) {
            named.put(dirfd, absolutePath.endsWith("/") ? absolutePath.substring(0, absolutePath.length() - 1)
                    : absolutePath);
        }
    }

    /** pread into native memory at address (a FUSE buffer); returns bytes read, 0 at end of file. */
    public int pread(int fd, long address, int count, long offset) throws SysException {
        long n = Native.pread(fd, address, count, offset);
        if (n < 0) {
            throw fail(n, "pread", null);
        }
        return (int) n;
    }

    public int pwrite(int fd, long address, int count, long offset) throws SysException {
        long n = Native.pwrite(fd, address, count, offset);
        if (n < 0) {
            throw fail(n, "pwrite", null);
        }
        return (int) n;
    }

    public int pread(int fd, byte[] buf, int count, long offset) throws SysException {
        long n = Native.preadArray(fd, buf, count, offset);
        if (n < 0) {
            throw fail(n, "pread", null);
        }
        return (int) n;
    }

    public int pwrite(int fd, byte[] buf, int count, long offset) throws SysException {
        long n = Native.pwriteArray(fd, buf, count, offset);
        if (n < 0) {
            throw fail(n, "pwrite", null);
        }
        return (int) n;
    }

    public void ftruncate(int fd, long length) throws SysException {
        int r = Native.ftruncate(fd, length);
        if (r != 0) {
            throw fail(r, "ftruncate", null);
        }
    }

    public void fsync(int fd, boolean dataOnly) throws SysException {
        int r = dataOnly ? Native.fdatasync(fd) : Native.fsync(fd);
        if (r != 0) {
            throw fail(r, dataOnly ? "fdatasync" : "fsync", null);
        }
    }

    /** syncfs(2): writes out everything dirty on the filesystem that holds fd (data and metadata). */
    public void syncfs(int fd) throws SysException {
        int r = Native.syncfs(fd);
        if (r != 0) {
            throw fail(r, "syncfs", null);
        }
    }

    public void fallocate(int fd, int mode, long offset, long length) throws SysException {
        int r = Native.fallocate(fd, mode, offset, length);
        if (r != 0) {
            throw fail(r, "fallocate", null);
        }
    }

    /** lseek; for SEEK_DATA/SEEK_HOLE returns -1 with ENXIO past the last data instead of throwing. */
    public long lseek(int fd, long offset, int whence) throws SysException {
        long r = Native.lseek(fd, offset, whence);
        if (r < 0) {
            if (r == -6 /* ENXIO */) {
                return -1;
            }
            throw fail(r, "lseek", null);
        }
        return r;
    }

    /** Shares all extents of src into dest (reflink). Throws with EOPNOTSUPP/EXDEV/EINVAL where unsupported. */
    public void ficlone(int destFd, int srcFd) throws SysException {
        int r = Native.ioctl(destFd, FICLONE, srcFd);
        if (r != 0) {
            throw fail(r, "ioctl(FICLONE)", null);
        }
    }

    /** copy_file_range at explicit offsets; returns bytes copied (0 at end of input). */
    public long copyFileRange(int fdIn, long offIn, int fdOut, long offOut, long len) throws SysException {
        long n = Native.copyFileRange(fdIn, offIn, fdOut, offOut, len);
        if (n < 0) {
            throw fail(n, "copy_file_range", null);
        }
        return n;
    }

    /** flock(2) with any of LOCK_SH, LOCK_EX, LOCK_UN (| LOCK_NB); waits through EINTR. */
    public void flock(int fd, int operation) throws SysException {
        int r;
        while ((r = Native.flock(fd, operation)) != 0) {
            if (r != -Errno.EINTR) {
                throw fail(r, "flock", null);
            }
        }
    }

    public boolean tryLock(int fd) throws SysException {
        int r = Native.flock(fd, LOCK_EX | LOCK_NB);
        if (r != 0) {
            if (r == -Errno.EAGAIN) {
                return false;
            }
            throw fail(r, "flock", null);
        }
        return true;
    }

    // ---- namespace ----------------------------------------------------------------------------------

    public void mkdirat(int dirfd, String path, int mode) throws SysException {
        int r = Native.mkdirat(dirfd, c(path), mode);
        if (r != 0) {
            throw fail(r, "mkdirat", path);
        }
    }

    public void unlinkat(int dirfd, String path, int flags) throws SysException {
        int r = Native.unlinkat(dirfd, c(path), flags);
        if (r != 0) {
            throw fail(r, "unlinkat", path);
        }
    }

    public void renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags) throws SysException {
        int r = Native.renameat2(olddirfd, c(oldpath), newdirfd, c(newpath), flags);
        if (r != 0) {
            throw fail(r, "renameat2", oldpath + " -> " + newpath);
        }
    }

    public void symlinkat(String target, int dirfd, String path) throws SysException {
        int r = Native.symlinkat(c(target), dirfd, c(path));
        if (r != 0) {
            throw fail(r, "symlinkat", path);
        }
    }

    public String readlinkat(int dirfd, String path) throws SysException {
        byte[] buf = new byte[4097];
        long n = Native.readlinkat(dirfd, c(path), buf);
        if (n < 0) {
            throw fail(n, "readlinkat", path);
        }
        return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
    }

    public void linkat(int olddirfd, String oldpath, int newdirfd, String newpath) throws SysException {
        int r = Native.linkat(olddirfd, c(oldpath), newdirfd, c(newpath), 0);
        if (r != 0) {
            throw fail(r, "linkat", oldpath + " -> " + newpath);
        }
    }

    public void mknodat(int dirfd, String path, int mode, long dev) throws SysException {
        int r = Native.mknodat(dirfd, c(path), mode, dev);
        if (r != 0) {
            throw fail(r, "mknodat", path);
        }
    }

    /** chmod without following a final symlink (symlink modes cannot change on Linux anyway). */
    public void fchmodat(int dirfd, String path, int mode) throws SysException {
        int r = Native.fchmodat(dirfd, c(path), mode, 0);
        if (r != 0) {
            throw fail(r, "fchmodat", path);
        }
    }

    /**
     * chmod that never follows a final symlink: glibc resolves the name with O_PATH|O_NOFOLLOW and
     * changes the mode through that descriptor, so a name swapped for a symlink is refused (EOPNOTSUPP)
     * rather than followed.
     */
    public void lchmodat(int dirfd, String path, int mode) throws SysException {
        int r = Native.fchmodat(dirfd, c(path), mode, AT_SYMLINK_NOFOLLOW);
        if (r != 0) {
            throw fail(r, "fchmodat", path);
        }
    }

    public void fchmod(int fd, int mode) throws SysException {
        int r = Native.fchmod(fd, mode);
        if (r != 0) {
            throw fail(r, "fchmod", null);
        }
    }

    public void lchownat(int dirfd, String path, int uid, int gid) throws SysException {
        int r = Native.fchownat(dirfd, c(path), uid, gid, AT_SYMLINK_NOFOLLOW);
        if (r != 0) {
            throw fail(r, "fchownat", path);
        }
    }

    public void fchown(int fd, int uid, int gid) throws SysException {
        int r = Native.fchown(fd, uid, gid);
        if (r != 0) {
            throw fail(r, "fchown", null);
        }
    }

    /** utimensat without following; nsec may be UTIME_NOW or UTIME_OMIT. */
    public void lutimensat(int dirfd, String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        int r = Native.utimensat(dirfd, c(path), aSec, aNsec, mSec, mNsec, AT_SYMLINK_NOFOLLOW);
        if (r != 0) {
            throw fail(r, "utimensat", path);
        }
    }

    public void futimens(int fd, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        int r = Native.futimens(fd, aSec, aNsec, mSec, mNsec);
        if (r != 0) {
            throw fail(r, "futimens", null);
        }
    }

    public boolean faccessat(int dirfd, String path, int mode) {
        return Native.faccessat(dirfd, c(path), mode, 0) == 0;
    }

    /**
     * Names in a directory (without "." and ".."), read with getdents64 so no String[] of the whole
     * directory is built twice. d_type comes from the filesystem; DT_UNKNOWN (0) means "stat to know".
     */
    public List<DirEntry> listDir(int dirfd, String path) throws SysException {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        try {
            return listDir(fd);
        } finally {
            close(fd);
        }
    }

    public List<DirEntry> listDir(int dirFd) throws SysException {
        Dirents d = dirents.get();
        ByteBuffer buf = d.buf;
        List<DirEntry> out = new ArrayList<>();
        byte[] name = new byte[256];
        while (true) {
            long n = Native.getdents64(dirFd, d.address, DIRENT_BUFFER);
            if (n < 0) {
                throw fail(n, "getdents64", null);
            }
            if (n == 0) {
                return out;
            }
            int pos = 0;
            while (pos < n) {
                long ino = buf.getLong(pos);
                int reclen = buf.getShort(pos + 16) & 0xffff;
                int type = buf.get(pos + 18) & 0xff;
                int len = 0;
                int nameAt = pos + 19;
                while (len < 256 && buf.get(nameAt + len) != 0) {
                    len++;
                }
                buf.get(nameAt, name, 0, len);
                pos += reclen;
                if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
                    continue;
                }
                out.add(new DirEntry(new String(name, 0, len, StandardCharsets.UTF_8), type, ino));
            }
        }
    }

    // ---- xattrs -------------------------------------------------------------------------------------
    // Linux has no *at() xattr calls before 6.13. The *At variants name dirfd/rel as
    // /proc/self/fd/N/rel (or, for a directory named by nameDirectory, its absolute path) and fall back
    // to an opened parent near PATH_MAX; always with the l* (no-follow) calls.

    /** A path-only name for dirfd/rel; through an opened parent where rel alone is near PATH_MAX. */
    private final class At implements AutoCloseable {
        private static final int LIMIT = 4000;
        final String path;
        private final int opened;

        At(int dirfd, String rel) throws SysException {
            String base = named.get(dirfd);
            String p = (base != null ? base : "/proc/self/fd/" + dirfd) + "/" + rel;
            int slash = rel.lastIndexOf('/');
            if (slash < 0 || p.getBytes(StandardCharsets.UTF_8).length < LIMIT) {
                path = p;
                opened = -1;
            } else {
                opened = openat(dirfd, rel.substring(0, slash), O_PATH | O_DIRECTORY, 0);
                path = "/proc/self/fd/" + opened + "/" + rel.substring(slash + 1);
            }
        }

        @Override
        public void close() {
            if (opened >= 0) {
                Sys.this.close(opened);
            }
        }
    }

    public byte[] lgetxattrAt(int dirfd, String rel, String name) throws SysException {
        try (At at = new At(dirfd, rel)) {
            return lgetxattr(at.path, name);
        }
    }

    public void lsetxattrAt(int dirfd, String rel, String name, byte[] value, int flags) throws SysException {
        try (At at = new At(dirfd, rel)) {
            lsetxattr(at.path, name, value, flags);
        }
    }

    public void lremovexattrAt(int dirfd, String rel, String name) throws SysException {
        try (At at = new At(dirfd, rel)) {
            lremovexattr(at.path, name);
        }
    }

    public List<String> llistxattrAt(int dirfd, String rel) throws SysException {
        try (At at = new At(dirfd, rel)) {
            return llistxattr(at.path);
        }
    }

    /** The value of an xattr, or null if the object has no such attribute (ENODATA) or xattrs are unsupported. */
    public byte[] lgetxattr(String path, String name) throws SysException {
        byte[] p = c(path);
        byte[] k = c(name);
        byte[] buf = scratch.get().xattr;
        while (true) {
            long n = Native.lgetxattr(p, k, buf);
            if (n >= 0) {
                return java.util.Arrays.copyOf(buf, (int) n);
            }
            if (n == -Errno.ENODATA || n == -Errno.EOPNOTSUPP) {
                return null;
            }
            if (n != -Errno.ERANGE) {
                throw fail(n, "lgetxattr", path + " " + name);
            }
            long size = Native.lgetxattr(p, k, null);
            if (size < 0) {
                throw fail(size, "lgetxattr", path);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public void lsetxattr(String path, String name, byte[] value, int flags) throws SysException {
        int r = Native.lsetxattr(c(path), c(name), value, flags);
        if (r != 0) {
            throw fail(r, "lsetxattr", path + " " + name);
        }
    }

    public void lremovexattr(String path, String name) throws SysException {
        int r = Native.lremovexattr(c(path), c(name));
        if (r != 0) {
            throw fail(r, "lremovexattr", path + " " + name);
        }
    }

    /** Names of all xattrs of path (not followed); empty where the filesystem has none. */
    public List<String> llistxattr(String path) throws SysException {
        byte[] p = c(path);
        byte[] buf = new byte[1024];
        while (true) {
            long n = Native.llistxattr(p, buf);
            if (n >= 0) {
                return splitNames(buf, (int) n);
            }
            if (n == -Errno.EOPNOTSUPP) {
                return List.of();
            }
            if (n != -Errno.ERANGE) {
                throw fail(n, "llistxattr", path);
            }
            long size = Native.llistxattr(p, null);
            if (size < 0) {
                throw fail(size, "llistxattr", path);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public byte[] fgetxattr(int fd, String name) throws SysException {
        byte[] k = c(name);
        byte[] buf = new byte[256];
        while (true) {
            long n = Native.fgetxattr(fd, k, buf);
            if (n >= 0) {
                return java.util.Arrays.copyOf(buf, (int) n);
            }
            if (n == -Errno.ENODATA || n == -Errno.EOPNOTSUPP) {
                return null;
            }
            if (n != -Errno.ERANGE) {
                throw fail(n, "fgetxattr", name);
            }
            long size = Native.fgetxattr(fd, k, null);
            if (size < 0) {
                throw fail(size, "fgetxattr", name);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public void fsetxattr(int fd, String name, byte[] value, int flags) throws SysException {
        int r = Native.fsetxattr(fd, c(name), value, flags);
        if (r != 0) {
            throw fail(r, "fsetxattr", name);
        }
    }

    public List<String> flistxattr(int fd) throws SysException {
        byte[] buf = new byte[1024];
        while (true) {
            long n = Native.flistxattr(fd, buf);
            if (n >= 0) {
                return splitNames(buf, (int) n);
            }
            if (n == -Errno.EOPNOTSUPP) {
                return List.of();
            }
            if (n != -Errno.ERANGE) {
                throw fail(n, "flistxattr", null);
            }
            buf = new byte[buf.length * 4];
        }
    }

    private static List<String> splitNames(byte[] buf, int n) {
        List<String> names = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (buf[i] == 0) {
                if (i > start) {
                    names.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return names;
    }

    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;

    public void umount2(String target, int flags) throws SysException {
        int r = Native.umount2(c(target), flags);
        if (r != 0) {
            throw fail(r, "umount2", target);
        }
    }

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_NOATIME = 1024;

    /** mount(2). */
    public void mount(String source, String target, String fstype, long flags, String data) throws SysException {
        int r = Native.mount(c(source), c(target), c(fstype), flags, data == null ? null : c(data));
        if (r != 0) {
            throw fail(r, "mount", target);
        }
    }

    /**
     * read(2) into native memory at address; returns the bytes read. Unlike the other calls it
     * does not retry EINTR: the caller decides (a FUSE worker retries, and ends on ENODEV).
     */
    public int read(int fd, long address, int count) throws SysException {
        long n = Native.read(fd, address, count);
        if (n < 0) {
            throw fail(n, "read", null);
        }
        return (int) n;
    }

    /** The native address of a direct buffer (for {@link #read(int, long, int)} and friends). */
    public static long addressOf(java.nio.ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return Native.address(direct);
    }

    /** write(2) from native memory at address; returns the bytes written. */
    public int write(int fd, long address, int count) throws SysException {
        long n = Native.write(fd, address, count);
        if (n < 0) {
            throw fail(n, "write", null);
        }
        return (int) n;
    }

    /** dup2(2): makes newFd a copy of oldFd (the copy does not inherit O_CLOEXEC). */
    public void dup2(int oldFd, int newFd) throws SysException {
        int r = Native.dup2(oldFd, newFd);
        if (r != newFd) {
            throw fail(r, "dup2", null);
        }
    }

    /** isatty(3): whether fd is a terminal (false for files, pipes, closed descriptors). */
    public boolean isatty(int fd) {
        return Native.isatty(fd) == 1;
    }

    public int geteuid() {
        return Native.geteuid();
    }

    public int getegid() {
        return Native.getegid();
    }

    public int umask(int mask) {
        return Native.umask(mask);
    }
}
