package io.layerfs.sys;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The libc entry points layerfs needs that Java lacks, bound by jnr-ffi. Public only because jnr-ffi
 * generates its implementation in another class loader; everything
 * else goes through {@link Sys}, which turns -1/errno into {@link SysException}. All path arguments
 * are relative to a directory file descriptor and never followed when the call allows it.
 */
@SaveError
public interface LibC {
    int fstatat(int dirfd, String path, Pointer buf, int flags);

    int fstat(int fd, Pointer buf);

    int openat(int dirfd, String path, int flags, int mode);

    int close(int fd);

    long pread(int fd, Pointer buf, long count, long offset);

    long pwrite(int fd, Pointer buf, long count, long offset);

    long pread(int fd, @Out byte[] buf, long count, long offset);

    long pwrite(int fd, @In byte[] buf, long count, long offset);

    long readlinkat(int dirfd, String path, @Out byte[] buf, long bufsiz);

    long lgetxattr(String path, String name, @Out byte[] value, long size);

    int lsetxattr(String path, String name, @In byte[] value, long size, int flags);

    long llistxattr(String path, @Out byte[] list, long size);

    long fgetxattr(int fd, String name, @Out byte[] value, long size);

    int fsetxattr(int fd, String name, @In byte[] value, long size, int flags);

    long flistxattr(int fd, @Out byte[] list, long size);

    int mkdirat(int dirfd, String path, int mode);

    int unlinkat(int dirfd, String path, int flags);

    int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

    int symlinkat(String target, int newdirfd, String linkpath);

    long readlinkat(int dirfd, String path, Pointer buf, long bufsiz);

    int linkat(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);

    int mknodat(int dirfd, String path, int mode, long dev);

    int fchmodat(int dirfd, String path, int mode, int flags);

    int fchmod(int fd, int mode);

    int fchownat(int dirfd, String path, int uid, int gid, int flags);

    int fchown(int fd, int uid, int gid);

    int utimensat(int dirfd, String path, Pointer times, int flags);

    int futimens(int fd, Pointer times);

    long lgetxattr(String path, String name, Pointer value, long size);

    int lsetxattr(String path, String name, Pointer value, long size, int flags);

    long llistxattr(String path, Pointer list, long size);

    int lremovexattr(String path, String name);

    long fgetxattr(int fd, String name, Pointer value, long size);

    int fsetxattr(int fd, String name, Pointer value, long size, int flags);

    long flistxattr(int fd, Pointer list, long size);

    long copy_file_range(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

    int ioctl(int fd, long request, long arg);

    int ftruncate(int fd, long length);

    int fsync(int fd);

    int syncfs(int fd);

    int fdatasync(int fd);

    int fallocate(int fd, int mode, long offset, long len);

    long lseek(int fd, long offset, int whence);

    int fstatvfs(int fd, Pointer buf);

    long getdents64(int fd, Pointer dirp, long count);

    int faccessat(int dirfd, String path, int mode, int flags);

    int flock(int fd, int operation);

    String strerror(int errnum);

    int umask(int mask);

    int umount2(String target, int flags);

    int mount(String source, String target, String fstype, long flags, String data);

    /** read(2)/write(2) with the buffer given as a native address (a direct buffer of the FUSE binding). */
    long read(int fd, long address, long count);

    long write(int fd, long address, long count);

    int geteuid();

    int getegid();

    int dup2(int oldFd, int newFd);

    int isatty(int fd);
}
