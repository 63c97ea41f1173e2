package io.layerfs.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

import io.layerfs.sys.Sys;

/**
 * One file system operation of a differential sequence, as a value: what to call, on which
 * relative path(s), with which arguments. {@link Ops#apply} performs it; {@link #toString()} is the
 * readable line printed in failure reports, e.g. {@code rename a/x -> b/y} or
 * {@code write a/f off=4096 len=100 data#17}. Written data is derived from {@code dataSeed}, so an op
 * is fully described by its line.
 */
public final class Op {
    /** The operations, with the system calls that {@link Ops#apply} makes for each. */
    public enum Kind {
        /** openat(O_WRONLY|O_CREAT|O_EXCL, mode), then pwrite of length bytes at 0 if length &gt; 0. */
        CREATE,
        /** openat(O_WRONLY|O_NONBLOCK) following symlinks, pwrite at offset. */
        WRITE,
        /** openat(O_WRONLY|O_APPEND|O_NONBLOCK), pwrite (the kernel appends). */
        APPEND,
        /** openat(O_WRONLY|O_NONBLOCK), ftruncate(length). */
        TRUNCATE,
        /** unlinkat(0). */
        UNLINK,
        /** mkdirat(mode). */
        MKDIR,
        /** unlinkat(AT_REMOVEDIR). */
        RMDIR,
        /** rm -r: depth first, names sorted, stopping at the first error, whose errno is the result. */
        REMOVE_TREE,
        /** renameat2(flags 0); the target may exist. */
        RENAME,
        /** fchmodat (follows symlinks, like chmod(1)). */
        CHMOD,
        /** fchownat(AT_SYMLINK_NOFOLLOW); -1 leaves an id unchanged. */
        CHOWN,
        /** symlinkat(target, path). */
        SYMLINK,
        /** linkat(path, path2, 0): path2 becomes another name of path. */
        LINK,
        /** lsetxattr(name, value, flags). */
        SETXATTR,
        /** lremovexattr(name). */
        REMOVEXATTR,
        /** utimensat(AT_SYMLINK_NOFOLLOW) with explicit times (atime nsec may be UTIME_OMIT). */
        UTIMES
    }

    final Kind kind;
    final String path;
    /** RENAME/LINK: second path; SYMLINK: the link target. */
    final String path2;
    final int mode;
    final int uid;
    final int gid;
    final long offset;
    final int length;
    final long dataSeed;
    final String xattrName;
    final String xattrValue;
    final int flags;
    final long aSec;
    final long aNsec;
    final long mSec;
    final long mNsec;

    private Op(Kind kind, String path, String path2, int mode, int uid, int gid, long offset, int length,
               long dataSeed, String xattrName, String xattrValue, int flags, long aSec, long aNsec, long mSec,
               long mNsec) {
        this.kind = kind;
        this.path = LayerFixture.checkRelative(path);
        this.path2 = path2;
        this.mode = mode;
        this.uid = uid;
        this.gid = gid;
        this.offset = offset;
        this.length = length;
        this.dataSeed = dataSeed;
        this.xattrName = xattrName;
        this.xattrValue = xattrValue;
        this.flags = flags;
        this.aSec = aSec;
        this.aNsec = aNsec;
        this.mSec = mSec;
        this.mNsec = mNsec;
    }

    private static Op of(Kind kind, String path) {
        return new Op(kind, path, null, 0, 0, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op create(String path, int mode, int length, long dataSeed) {
        return new Op(Kind.CREATE, path, null, mode, 0, 0, 0, length, dataSeed, null, null, 0, 0, 0, 0, 0);
    }

    public static Op write(String path, long offset, int length, long dataSeed) {
        return new Op(Kind.WRITE, path, null, 0, 0, 0, offset, length, dataSeed, null, null, 0, 0, 0, 0, 0);
    }

    public static Op append(String path, int length, long dataSeed) {
        return new Op(Kind.APPEND, path, null, 0, 0, 0, 0, length, dataSeed, null, null, 0, 0, 0, 0, 0);
    }

    public static Op truncate(String path, long size) {
        return new Op(Kind.TRUNCATE, path, null, 0, 0, 0, size, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op unlink(String path) {
        return of(Kind.UNLINK, path);
    }

    public static Op mkdir(String path, int mode) {
        return new Op(Kind.MKDIR, path, null, mode, 0, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op rmdir(String path) {
        return of(Kind.RMDIR, path);
    }

    public static Op removeTree(String path) {
        return of(Kind.REMOVE_TREE, path);
    }

    public static Op rename(String from, String to) {
        return new Op(Kind.RENAME, from, LayerFixture.checkRelative(to), 0, 0, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op chmod(String path, int mode) {
        return new Op(Kind.CHMOD, path, null, mode, 0, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op chown(String path, int uid, int gid) {
        return new Op(Kind.CHOWN, path, null, 0, uid, gid, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op symlink(String path, String target) {
        return new Op(Kind.SYMLINK, path, Objects.requireNonNull(target), 0, 0, 0, 0, 0, 0, null, null, 0, 0, 0, 0, 0);
    }

    public static Op link(String existing, String newName) {
        return new Op(Kind.LINK, existing, LayerFixture.checkRelative(newName), 0, 0, 0, 0, 0, 0, null, null, 0, 0, 0,
                0, 0);
    }

    /** flags: 0, {@link Sys#XATTR_CREATE} or {@link Sys#XATTR_REPLACE}. */
    public static Op setxattr(String path, String name, String value, int flags) {
        return new Op(Kind.SETXATTR, path, null, 0, 0, 0, 0, 0, 0, name, value, flags, 0, 0, 0, 0);
    }

    public static Op removexattr(String path, String name) {
        return new Op(Kind.REMOVEXATTR, path, null, 0, 0, 0, 0, 0, 0, name, null, 0, 0, 0, 0, 0);
    }

    public static Op utimes(String path, long aSec, long aNsec, long mSec, long mNsec) {
        return new Op(Kind.UTIMES, path, null, 0, 0, 0, 0, 0, 0, null, null, 0, aSec, aNsec, mSec, mNsec);
    }

    public Kind kind() {
        return kind;
    }

    public String path() {
        return path;
    }

    /** The second path of RENAME (target) and LINK (new name), the link target of SYMLINK, else null. */
    public String path2() {
        return path2;
    }

    byte[] valueBytes() {
        return xattrValue.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        switch (kind) {
            case CREATE: return "create " + path + " mode=" + octal(mode) + " len=" + length + data();
            case WRITE: return "write " + path + " off=" + offset + " len=" + length + data();
            case APPEND: return "append " + path + " len=" + length + data();
            case TRUNCATE: return "truncate " + path + " size=" + offset;
            case UNLINK: return "unlink " + path;
            case MKDIR: return "mkdir " + path + " mode=" + octal(mode);
            case RMDIR: return "rmdir " + path;
            case REMOVE_TREE: return "rm -r " + path;
            case RENAME: return "rename " + path + " -> " + path2;
            case CHMOD: return "chmod " + path + " " + octal(mode);
            case CHOWN: return "chown " + path + " " + uid + ":" + gid;
            case SYMLINK: return "symlink " + path + " -> '" + path2 + "'";
            case LINK: return "link " + path + " as " + path2;
            case SETXATTR: return "setxattr " + path + " " + xattrName + "=\"" + xattrValue + "\"" + xattrFlags();
            case REMOVEXATTR: return "removexattr " + path + " " + xattrName;
            case UTIMES: return "utimes " + path + " atime=" + time(aSec, aNsec) + " mtime=" + time(mSec, mNsec);
            default: throw new AssertionError(kind);
        }
    }

    private String data() {
        return length > 0 ? " data#" + dataSeed : "";
    }

    private String xattrFlags() {
        return flags == Sys.XATTR_CREATE ? " CREATE" : flags == Sys.XATTR_REPLACE ? " REPLACE" : "";
    }

    private static String octal(int mode) {
        return String.format("%04o", mode);
    }

    private static String time(long sec, long nsec) {
        return nsec == Sys.UTIME_OMIT ? "omit" : nsec == Sys.UTIME_NOW ? "now" : sec + "." + String.format("%09d", nsec);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Op && o.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
