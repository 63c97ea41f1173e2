package io.layerfs.sys;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Memory;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The system calls of the union engine, relative to directory file descriptors and never following a
 * final symlink. Every failure becomes a {@link SysException} carrying the kernel's errno, so the
 * engine can pass it to the caller unchanged. Thread-safe: scratch buffers are per thread.
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

    private static final int STAT_SIZE = 144;
    private static final int STATVFS_SIZE = 112;
    private static final int DIRENT_BUFFER = 64 * 1024;

    private static final Sys INSTANCE = new Sys();

    private final LibC libc;
    private final Runtime runtime;
    private final ThreadLocal<Pointer> statBuf;
    private final ThreadLocal<Pointer> direntBuf;

    private Sys() {
        if (Platform.getNativePlatform().getOS() != Platform.OS.LINUX
                || Platform.getNativePlatform().getCPU() != Platform.CPU.X86_64) {
            throw new UnsupportedOperationException("layerfs supports Linux on x86_64 only, not "
                    + Platform.getNativePlatform().getOS() + "/" + Platform.getNativePlatform().getCPU());
        }
        libc = LibraryLoader.create(LibC.class).option(LibraryOption.SaveError, true).failImmediately().load("c");
        runtime = Runtime.getRuntime(libc);
        statBuf = ThreadLocal.withInitial(() -> Memory.allocateDirect(runtime, STAT_SIZE));
        direntBuf = ThreadLocal.withInitial(() -> Memory.allocateDirect(runtime, DIRENT_BUFFER));
    }

    public static Sys get() {
        return INSTANCE;
    }

    private int errno() {
        return runtime.getLastError();
    }

    private SysException fail(String call, String path) {
        int e = errno();
        return new SysException(e, path == null ? call : call + " " + path);
    }

    // ---- stat ---------------------------------------------------------------------------------------

    /** lstat relative to dirfd. */
    public Stat lstat(int dirfd, String path) throws SysException {
        Pointer buf = statBuf.get();
        if (libc.fstatat(dirfd, path, buf, AT_SYMLINK_NOFOLLOW) != 0) {
            throw fail("fstatat", path);
        }
        return readStat(buf);
    }

    /** lstat relative to dirfd, or null when the name does not exist (ENOENT or ENOTDIR on the way). */
    public Stat lstatOrNull(int dirfd, String path) throws SysException {
        Pointer buf = statBuf.get();
        if (libc.fstatat(dirfd, path, buf, AT_SYMLINK_NOFOLLOW) != 0) {
            int e = errno();
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) {
                return null;
            }
            throw new SysException(e, "fstatat " + path);
        }
        return readStat(buf);
    }

    public Stat fstat(int fd) throws SysException {
        Pointer buf = statBuf.get();
        if (libc.fstat(fd, buf) != 0) {
            throw fail("fstat", null);
        }
        return readStat(buf);
    }

    private static Stat readStat(Pointer b) {
        // struct stat on x86_64 (arch/x86/include/uapi/asm/stat.h)
        return new Stat(b.getLong(0), b.getLong(8), b.getLong(16), b.getInt(24), b.getInt(28), b.getInt(32),
                b.getLong(40), b.getLong(48), b.getLong(56), b.getLong(64), b.getLong(72), b.getLong(80),
                b.getLong(88), b.getLong(96), b.getLong(104), b.getLong(112));
    }

    /** statvfs of the filesystem holding fd: {bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax}. */
    public long[] fstatvfs(int fd) throws SysException {
        Pointer buf = Memory.allocateDirect(runtime, STATVFS_SIZE);
        if (libc.fstatvfs(fd, buf) != 0) {
            throw fail("fstatvfs", null);
        }
        long[] r = new long[11];
        for (int i = 0; i < r.length; i++) {
            r[i] = buf.getLong(i * 8L);
        }
        return r;
    }

    // ---- files --------------------------------------------------------------------------------------

    public int openat(int dirfd, String path, int flags, int mode) throws SysException {
        int fd = libc.openat(dirfd, path, flags | O_CLOEXEC, mode);
        if (fd < 0) {
            throw fail("openat", path);
        }
        return fd;
    }

    public void close(int fd) {
        libc.close(fd);
    }

    /** Closes a directory named by {@link #nameDirectory}, forgetting its name first. */
    public void closeDirectory(int fd) {
        named.remove(fd);
        libc.close(fd);
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
        long n = libc.pread(fd, Pointer.wrap(runtime, address), count, offset);
        if (n < 0) {
            throw fail("pread", null);
        }
        return (int) n;
    }

    public int pwrite(int fd, long address, int count, long offset) throws SysException {
        long n = libc.pwrite(fd, Pointer.wrap(runtime, address), count, offset);
        if (n < 0) {
            throw fail("pwrite", null);
        }
        return (int) n;
    }

    public int pread(int fd, byte[] buf, int count, long offset) throws SysException {
        long n = libc.pread(fd, buf, count, offset);
        if (n < 0) {
            throw fail("pread", null);
        }
        return (int) n;
    }

    public int pwrite(int fd, byte[] buf, int count, long offset) throws SysException {
        long n = libc.pwrite(fd, buf, count, offset);
        if (n < 0) {
            throw fail("pwrite", null);
        }
        return (int) n;
    }

    public void ftruncate(int fd, long length) throws SysException {
        if (libc.ftruncate(fd, length) != 0) {
            throw fail("ftruncate", null);
        }
    }

    public void fsync(int fd, boolean dataOnly) throws SysException {
        if ((dataOnly ? libc.fdatasync(fd) : libc.fsync(fd)) != 0) {
            throw fail(dataOnly ? "fdatasync" : "fsync", null);
        }
    }

    /** syncfs(2): writes out everything dirty on the filesystem that holds fd (data and metadata). */
    public void syncfs(int fd) throws SysException {
        if (libc.syncfs(fd) != 0) {
            throw fail("syncfs", null);
        }
    }

    public void fallocate(int fd, int mode, long offset, long length) throws SysException {
        if (libc.fallocate(fd, mode, offset, length) != 0) {
            throw fail("fallocate", null);
        }
    }

    /** lseek; for SEEK_DATA/SEEK_HOLE returns -1 with ENXIO past the last data instead of throwing. */
    public long lseek(int fd, long offset, int whence) throws SysException {
        long r = libc.lseek(fd, offset, whence);
        if (r < 0) {
            int e = errno();
            if (e == 6 /* ENXIO */) {
                return -1;
            }
            throw new SysException(e, "lseek");
        }
        return r;
    }

    /** Shares all extents of src into dest (reflink). Throws with EOPNOTSUPP/EXDEV/EINVAL where unsupported. */
    public void ficlone(int destFd, int srcFd) throws SysException {
        if (libc.ioctl(destFd, FICLONE, srcFd) != 0) {
            throw fail("ioctl(FICLONE)", null);
        }
    }

    /** copy_file_range at explicit offsets; returns bytes copied (0 at end of input). */
    public long copyFileRange(int fdIn, long offIn, int fdOut, long offOut, long len) throws SysException {
        Pointer in = Memory.allocateDirect(runtime, 8);
        Pointer out = Memory.allocateDirect(runtime, 8);
        in.putLong(0, offIn);
        out.putLong(0, offOut);
        long n = libc.copy_file_range(fdIn, in, fdOut, out, len, 0);
        if (n < 0) {
            throw fail("copy_file_range", null);
        }
        return n;
    }

    /** flock(2) with any of LOCK_SH, LOCK_EX, LOCK_UN (| LOCK_NB); waits through EINTR. */
    public void flock(int fd, int operation) throws SysException {
        while (libc.flock(fd, operation) != 0) {
            int e = errno();
            if (e != Errno.EINTR) {
                throw new SysException(e, "flock");
            }
        }
    }

    public boolean tryLock(int fd) throws SysException {
        if (libc.flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno();
            if (e == Errno.EAGAIN) {
                return false;
            }
            throw new SysException(e, "flock");
        }
        return true;
    }

    // ---- namespace ----------------------------------------------------------------------------------

    public void mkdirat(int dirfd, String path, int mode) throws SysException {
        if (libc.mkdirat(dirfd, path, mode) != 0) {
            throw fail("mkdirat", path);
        }
    }

    public void unlinkat(int dirfd, String path, int flags) throws SysException {
        if (libc.unlinkat(dirfd, path, flags) != 0) {
            throw fail("unlinkat", path);
        }
    }

    public void renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags) throws SysException {
        if (libc.renameat2(olddirfd, oldpath, newdirfd, newpath, flags) != 0) {
            throw fail("renameat2", oldpath + " -> " + newpath);
        }
    }

    public void symlinkat(String target, int dirfd, String path) throws SysException {
        if (libc.symlinkat(target, dirfd, path) != 0) {
            throw fail("symlinkat", path);
        }
    }

    public String readlinkat(int dirfd, String path) throws SysException {
        byte[] buf = new byte[4097];
        long n = libc.readlinkat(dirfd, path, buf, buf.length);
        if (n < 0) {
            throw fail("readlinkat", path);
        }
        return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
    }

    public void linkat(int olddirfd, String oldpath, int newdirfd, String newpath) throws SysException {
        if (libc.linkat(olddirfd, oldpath, newdirfd, newpath, 0) != 0) {
            throw fail("linkat", oldpath + " -> " + newpath);
        }
    }

    public void mknodat(int dirfd, String path, int mode, long dev) throws SysException {
        if (libc.mknodat(dirfd, path, mode, dev) != 0) {
            throw fail("mknodat", path);
        }
    }

    /** chmod without following a final symlink (symlink modes cannot change on Linux anyway). */
    public void fchmodat(int dirfd, String path, int mode) throws SysException {
        if (libc.fchmodat(dirfd, path, mode, 0) != 0) {
            throw fail("fchmodat", path);
        }
    }

    /**
     * chmod that never follows a final symlink: glibc resolves the name with O_PATH|O_NOFOLLOW and
     * changes the mode through that descriptor, so a name swapped for a symlink is refused (EOPNOTSUPP)
     * rather than followed.
     */
    public void lchmodat(int dirfd, String path, int mode) throws SysException {
        if (libc.fchmodat(dirfd, path, mode, AT_SYMLINK_NOFOLLOW) != 0) {
            throw fail("fchmodat", path);
        }
    }

    public void fchmod(int fd, int mode) throws SysException {
        if (libc.fchmod(fd, mode) != 0) {
            throw fail("fchmod", null);
        }
    }

    public void lchownat(int dirfd, String path, int uid, int gid) throws SysException {
        if (libc.fchownat(dirfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
            throw fail("fchownat", path);
        }
    }

    public void fchown(int fd, int uid, int gid) throws SysException {
        if (libc.fchown(fd, uid, gid) != 0) {
            throw fail("fchown", null);
        }
    }

    /** utimensat without following; nsec may be UTIME_NOW or UTIME_OMIT. */
    public void lutimensat(int dirfd, String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        Pointer t = times(aSec, aNsec, mSec, mNsec);
        if (libc.utimensat(dirfd, path, t, AT_SYMLINK_NOFOLLOW) != 0) {
            throw fail("utimensat", path);
        }
    }

    public void futimens(int fd, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        if (libc.futimens(fd, times(aSec, aNsec, mSec, mNsec)) != 0) {
            throw fail("futimens", null);
        }
    }

    private Pointer times(long aSec, long aNsec, long mSec, long mNsec) {
        Pointer t = Memory.allocateDirect(runtime, 32);
        t.putLong(0, aSec);
        t.putLong(8, aNsec);
        t.putLong(16, mSec);
        t.putLong(24, mNsec);
        return t;
    }

    public boolean faccessat(int dirfd, String path, int mode) {
        return libc.faccessat(dirfd, path, mode, 0) == 0;
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
        Pointer buf = direntBuf.get();
        List<DirEntry> out = new ArrayList<>();
        byte[] name = new byte[256];
        while (true) {
            long n = libc.getdents64(dirFd, buf, DIRENT_BUFFER);
            if (n < 0) {
                throw fail("getdents64", null);
            }
            if (n == 0) {
                return out;
            }
            long pos = 0;
            while (pos < n) {
                long ino = buf.getLong(pos);
                int reclen = buf.getShort(pos + 16) & 0xffff;
                int type = buf.getByte(pos + 18) & 0xff;
                int len = 0;
                long nameAt = pos + 19;
                while (len < 256 && buf.getByte(nameAt + len) != 0) {
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
        byte[] buf = new byte[256];
        while (true) {
            long n = libc.lgetxattr(path, name, buf, buf.length);
            if (n >= 0) {
                return java.util.Arrays.copyOf(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.ENODATA || e == Errno.EOPNOTSUPP) {
                return null;
            }
            if (e != Errno.ERANGE) {
                throw new SysException(e, "lgetxattr " + path + " " + name);
            }
            long size = libc.lgetxattr(path, name, (byte[]) null, 0);
            if (size < 0) {
                throw fail("lgetxattr", path);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public void lsetxattr(String path, String name, byte[] value, int flags) throws SysException {
        if (libc.lsetxattr(path, name, value, value.length, flags) != 0) {
            throw fail("lsetxattr", path + " " + name);
        }
    }

    public void lremovexattr(String path, String name) throws SysException {
        if (libc.lremovexattr(path, name) != 0) {
            throw fail("lremovexattr", path + " " + name);
        }
    }

    /** Names of all xattrs of path (not followed); empty where the filesystem has none. */
    public List<String> llistxattr(String path) throws SysException {
        byte[] buf = new byte[1024];
        while (true) {
            long n = libc.llistxattr(path, buf, buf.length);
            if (n >= 0) {
                return splitNames(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.EOPNOTSUPP) {
                return List.of();
            }
            if (e != Errno.ERANGE) {
                throw new SysException(e, "llistxattr " + path);
            }
            long size = libc.llistxattr(path, (byte[]) null, 0);
            if (size < 0) {
                throw fail("llistxattr", path);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public byte[] fgetxattr(int fd, String name) throws SysException {
        byte[] buf = new byte[256];
        while (true) {
            long n = libc.fgetxattr(fd, name, buf, buf.length);
            if (n >= 0) {
                return java.util.Arrays.copyOf(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.ENODATA || e == Errno.EOPNOTSUPP) {
                return null;
            }
            if (e != Errno.ERANGE) {
                throw new SysException(e, "fgetxattr " + name);
            }
            long size = libc.fgetxattr(fd, name, (byte[]) null, 0);
            if (size < 0) {
                throw fail("fgetxattr", name);
            }
            buf = new byte[(int) Math.max(size, buf.length * 2L)];
        }
    }

    public void fsetxattr(int fd, String name, byte[] value, int flags) throws SysException {
        if (libc.fsetxattr(fd, name, value, value.length, flags) != 0) {
            throw fail("fsetxattr", name);
        }
    }

    public List<String> flistxattr(int fd) throws SysException {
        byte[] buf = new byte[1024];
        while (true) {
            long n = libc.flistxattr(fd, buf, buf.length);
            if (n >= 0) {
                return splitNames(buf, (int) n);
            }
            int e = errno();
            if (e == Errno.EOPNOTSUPP) {
                return List.of();
            }
            if (e != Errno.ERANGE) {
                throw new SysException(e, "flistxattr");
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
        if (libc.umount2(target, flags) != 0) {
            throw fail("umount2", target);
        }
    }

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_NOATIME = 1024;

    /** mount(2). */
    public void mount(String source, String target, String fstype, long flags, String data) throws SysException {
        if (libc.mount(source, target, fstype, flags, data) != 0) {
            throw fail("mount", target);
        }
    }

    /**
     * read(2) into native memory at address; returns the bytes read. Unlike the other calls it
     * does not retry EINTR: the caller decides (a FUSE worker retries, and ends on ENODEV).
     */
    public int read(int fd, long address, int count) throws SysException {
        long n = libc.read(fd, address, count);
        if (n < 0) {
            throw fail("read", null);
        }
        return (int) n;
    }

    /** The native address of a direct buffer (for {@link #read(int, long, int)} and friends). */
    public static long addressOf(java.nio.ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return com.kenai.jffi.MemoryIO.getInstance().getDirectBufferAddress(direct);
    }

    /** write(2) from native memory at address; returns the bytes written. */
    public int write(int fd, long address, int count) throws SysException {
        long n = libc.write(fd, address, count);
        if (n < 0) {
            throw fail("write", null);
        }
        return (int) n;
    }

    /** dup2(2): makes newFd a copy of oldFd (the copy does not inherit O_CLOEXEC). */
    public void dup2(int oldFd, int newFd) throws SysException {
        if (libc.dup2(oldFd, newFd) != newFd) {
            throw fail("dup2", null);
        }
    }

    /** isatty(3): whether fd is a terminal (false for files, pipes, closed descriptors). */
    public boolean isatty(int fd) {
        return libc.isatty(fd) == 1;
    }

    public int geteuid() {
        return libc.geteuid();
    }

    public int getegid() {
        return libc.getegid();
    }

    public int umask(int mask) {
        return libc.umask(mask);
    }
}
