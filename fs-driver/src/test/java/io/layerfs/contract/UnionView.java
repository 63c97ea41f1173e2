package io.layerfs.contract;

import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.sys.SysException;

/**
 * The union as a test sees it: paths inside the union ("/a/b"), answers or errno. One
 * implementation drives the engine in-process, one a real FUSE mount, so the same contract suite
 * checks both.
 */
public interface UnionView extends AutoCloseable {
    Stat stat(String path) throws SysException;

    /** Sorted names of a directory, without "." and "..". */
    List<String> list(String path) throws SysException;

    byte[] read(String path) throws SysException;

    /** Creates or truncates path and writes data (mode for a new file 0644). */
    void write(String path, byte[] data) throws SysException;

    void append(String path, byte[] data) throws SysException;

    void writeAt(String path, long offset, byte[] data) throws SysException;

    /** Opens with O_WRONLY|O_TRUNC and closes (the open-with-truncate path, no setattr). */
    void openTruncate(String path) throws SysException;

    void truncate(String path, long size) throws SysException;

    void mkdir(String path, int mode) throws SysException;

    void unlink(String path) throws SysException;

    void rmdir(String path) throws SysException;

    void rename(String from, String to) throws SysException;

    void link(String from, String to) throws SysException;

    void symlink(String target, String path) throws SysException;

    String readlink(String path) throws SysException;

    void mknod(String path, int mode, long rdev) throws SysException;

    void chmod(String path, int mode) throws SysException;

    void chown(String path, int uid, int gid) throws SysException;

    void utimes(String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException;

    void setxattr(String path, String name, byte[] value) throws SysException;

    byte[] getxattr(String path, String name) throws SysException;

    List<String> listxattr(String path) throws SysException;

    void removexattr(String path, String name) throws SysException;

    /** statvfs of the union: {bsize, frsize, blocks, bfree, bavail, files, ffree, ...}. */
    long[] statfs() throws SysException;

    /** Opens for writing, fallocates [offset, offset+length), fsyncs and fdatasyncs, closes. */
    void fallocateAndSync(String path, long offset, long length) throws SysException;

    @Override
    void close() throws Exception;
}
