package io.layerfs.sys;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI functions behind {@link Sys} (src/main/c/layerfs-sys.c, built into this jar as
 * {@value #LIBRARY}). Each returns what its system call returns, or -errno where it failed; paths and
 * names are passed encoded, without a terminating NUL; native memory as an address.
 *
 * <p>Why JNI and not jnr-ffi, which the libfuse binding still uses: jnr-ffi generates its stubs when a
 * process starts, and a mount waited about 0.13 s for that, a third of its start; JNI functions are
 * linked by name when first called (mount ready 0.414 -> 0.216 s, medians of 9).
 *
 * <p>Where the library comes from: the file named by the system property {@value #PROPERTY} (the
 * ./layerfs launcher points it at the copy in mount-tool/target/native), else the copy next to this
 * class when the classes are a directory (tests, the IDE), else a copy extracted from the jar to
 * {@code java.io.tmpdir}, deleted again once loaded.
 */
final class Native {
    static final String LIBRARY = "liblayerfs-sys.so";
    static final String PROPERTY = "layerfs.native.library";

    private Native() {
    }

    static {
        load();
    }

    private static void load() {
        String given = System.getProperty(PROPERTY);
        if (given != null && !given.isEmpty()) {
            System.load(given);
            return;
        }
        URL url = Native.class.getResource(LIBRARY);
        if (url == null) {
            throw new UnsatisfiedLinkError(LIBRARY + " is not next to " + Native.class.getName()
                    + " (the build compiles it from fs-driver/src/main/c; is a C compiler installed?)");
        }
        if (url.getProtocol().equals("file")) {
            try {
                System.load(Path.of(url.toURI()).toString());
                return;
            } catch (URISyntaxException e) {
                throw new UnsatisfiedLinkError("cannot name " + url + ": " + e.getMessage());
            }
        }
        Path copy = null;
        try (InputStream in = url.openStream()) {
            copy = Files.createTempFile("layerfs-sys-", ".so");
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
            System.load(copy.toString());
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("cannot extract " + LIBRARY + " to " + System.getProperty("java.io.tmpdir")
                    + ": " + e.getMessage() + " (or give its path with -D" + PROPERTY + "=...)");
        } finally {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy); // loaded (mapped) already, or failed
                } catch (IOException ignored) {
                    // a temp file left behind; nothing else depends on it
                }
            }
        }
    }

    // stat: out receives Stat's 16 constructor fields in order; fstatvfs's its 11 fields
    static native int fstatat(int dirfd, byte[] path, int flags, long[] out);

    static native int fstat(int fd, long[] out);

    static native int fstatvfs(int fd, long[] out);

    // files
    static native int openat(int dirfd, byte[] path, int flags, int mode);

    static native int close(int fd);

    static native long pread(int fd, long address, long count, long offset);

    static native long pwrite(int fd, long address, long count, long offset);

    static native long read(int fd, long address, long count);

    static native long write(int fd, long address, long count);

    static native long preadArray(int fd, byte[] buf, int count, long offset);

    static native long pwriteArray(int fd, byte[] buf, int count, long offset);

    static native int ftruncate(int fd, long length);

    static native int fsync(int fd);

    static native int fdatasync(int fd);

    static native int syncfs(int fd);

    static native int fallocate(int fd, int mode, long offset, long length);

    static native long lseek(int fd, long offset, int whence);

    static native int ioctl(int fd, long request, long arg);

    static native long copyFileRange(int fdIn, long offIn, int fdOut, long offOut, long len);

    static native int flock(int fd, int operation);

    static native int dup2(int oldFd, int newFd);

    /** 1 for a terminal, else 0. */
    static native int isatty(int fd);

    // namespace
    static native int mkdirat(int dirfd, byte[] path, int mode);

    static native int unlinkat(int dirfd, byte[] path, int flags);

    static native int renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

    static native int symlinkat(byte[] target, int dirfd, byte[] path);

    /** The link's target into buf; returns its length (truncated to buf's, as readlink(2) does). */
    static native long readlinkat(int dirfd, byte[] path, byte[] buf);

    static native int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

    static native int mknodat(int dirfd, byte[] path, int mode, long dev);

    static native int fchmodat(int dirfd, byte[] path, int mode, int flags);

    static native int fchmod(int fd, int mode);

    static native int fchownat(int dirfd, byte[] path, int uid, int gid, int flags);

    static native int fchown(int fd, int uid, int gid);

    static native int utimensat(int dirfd, byte[] path, long aSec, long aNsec, long mSec, long mNsec, int flags);

    static native int futimens(int fd, long aSec, long aNsec, long mSec, long mNsec);

    static native int faccessat(int dirfd, byte[] path, int mode, int flags);

    static native long getdents64(int fd, long address, long count);

    // xattrs: a null value or list asks only for the size needed
    static native long lgetxattr(byte[] path, byte[] name, byte[] value);

    static native long fgetxattr(int fd, byte[] name, byte[] value);

    static native long llistxattr(byte[] path, byte[] list);

    static native long flistxattr(int fd, byte[] list);

    static native int lsetxattr(byte[] path, byte[] name, byte[] value, int flags);

    static native int fsetxattr(int fd, byte[] name, byte[] value, int flags);

    static native int lremovexattr(byte[] path, byte[] name);

    // mounts, identity, process
    static native int mount(byte[] source, byte[] target, byte[] fstype, long flags, byte[] data);

    static native int umount2(byte[] target, int flags);

    static native int geteuid();

    static native int getegid();

    static native int umask(int mask);

    /** The address of a direct buffer's memory. */
    static native long address(ByteBuffer direct);

    /** glibc's malloc_trim(0): 1 if memory went back, 0 if not, -ENOSYS without glibc. */
    static native int mallocTrim();
}
