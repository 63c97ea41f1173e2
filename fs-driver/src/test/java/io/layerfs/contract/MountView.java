package io.layerfs.contract;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * A mounted union (layerfs over FUSE, or kernel overlayfs) driven with system calls on the mount
 * point, so every answer is the kernel's errno as a program would see it.
 */
public class MountView implements UnionView {
    protected static final Sys SYS = Sys.get();
    private final Path root;
    private final AutoCloseable onClose;

    public MountView(Path root, AutoCloseable onClose) {
        this.root = root;
        this.onClose = onClose;
    }

    public Path root() {
        return root;
    }

    public String host(String path) {
        return "/".equals(path) ? root.toString() : root + path;
    }

    @Override
    public Stat stat(String path) throws SysException {
        return SYS.lstat(Sys.AT_FDCWD, host(path));
    }

    @Override
    public List<String> list(String path) throws SysException {
        List<String> names = new ArrayList<>();
        for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, host(path))) {
            names.add(d.name);
        }
        names.sort(null);
        return names;
    }

    @Override
    public byte[] read(String path) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, host(path), Sys.O_RDONLY, 0);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            long off = 0;
            int n;
            while ((n = SYS.pread(fd, buf, buf.length, off)) > 0) {
                out.write(buf, 0, n);
                off += n;
            }
            return out.toByteArray();
        } finally {
            SYS.close(fd);
        }
    }

    private void writeWith(String path, int flags, long offset, byte[] data) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, host(path), flags | Sys.O_CREAT, 0644);
        try {
            if (data.length > 0) {
                if ((flags & Sys.O_APPEND) != 0) {
                    offset = SYS.fstat(fd).size;
                }
                int done = 0;
                while (done < data.length) {
                    byte[] rest = done == 0 ? data : java.util.Arrays.copyOfRange(data, done, data.length);
                    done += SYS.pwrite(fd, rest, rest.length, offset + done);
                }
            }
        } finally {
            SYS.close(fd);
        }
    }

    @Override
    public void write(String path, byte[] data) throws SysException {
        writeWith(path, Sys.O_WRONLY | Sys.O_TRUNC, 0, data);
    }

    @Override
    public void append(String path, byte[] data) throws SysException {
        writeWith(path, Sys.O_WRONLY | Sys.O_APPEND, 0, data);
    }

    @Override
    public void writeAt(String path, long offset, byte[] data) throws SysException {
        writeWith(path, Sys.O_WRONLY, offset, data);
    }

    @Override
    public void openTruncate(String path) throws SysException {
        SYS.close(SYS.openat(Sys.AT_FDCWD, host(path), Sys.O_WRONLY | Sys.O_TRUNC, 0));
    }

    @Override
    public void truncate(String path, long size) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, host(path), Sys.O_WRONLY, 0);
        try {
            SYS.ftruncate(fd, size);
        } finally {
            SYS.close(fd);
        }
    }

    @Override
    public void mkdir(String path, int mode) throws SysException {
        SYS.mkdirat(Sys.AT_FDCWD, host(path), mode);
    }

    @Override
    public void unlink(String path) throws SysException {
        SYS.unlinkat(Sys.AT_FDCWD, host(path), 0);
    }

    @Override
    public void rmdir(String path) throws SysException {
        SYS.unlinkat(Sys.AT_FDCWD, host(path), Sys.AT_REMOVEDIR);
    }

    @Override
    public void rename(String from, String to) throws SysException {
        SYS.renameat2(Sys.AT_FDCWD, host(from), Sys.AT_FDCWD, host(to), 0);
    }

    @Override
    public void link(String from, String to) throws SysException {
        SYS.linkat(Sys.AT_FDCWD, host(from), Sys.AT_FDCWD, host(to));
    }

    @Override
    public void symlink(String target, String path) throws SysException {
        SYS.symlinkat(target, Sys.AT_FDCWD, host(path));
    }

    @Override
    public String readlink(String path) throws SysException {
        return SYS.readlinkat(Sys.AT_FDCWD, host(path));
    }

    @Override
    public void mknod(String path, int mode, long rdev) throws SysException {
        SYS.mknodat(Sys.AT_FDCWD, host(path), mode, rdev);
    }

    @Override
    public void chmod(String path, int mode) throws SysException {
        SYS.fchmodat(Sys.AT_FDCWD, host(path), mode);
    }

    @Override
    public void chown(String path, int uid, int gid) throws SysException {
        SYS.lchownat(Sys.AT_FDCWD, host(path), uid, gid);
    }

    @Override
    public void utimes(String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        SYS.lutimensat(Sys.AT_FDCWD, host(path), aSec, aNsec, mSec, mNsec);
    }

    @Override
    public void setxattr(String path, String name, byte[] value) throws SysException {
        SYS.lsetxattr(host(path), name, value, 0);
    }

    @Override
    public byte[] getxattr(String path, String name) throws SysException {
        byte[] v = SYS.lgetxattr(host(path), name);
        if (v == null) {
            throw new SysException(Errno.ENODATA, name);
        }
        return v;
    }

    @Override
    public List<String> listxattr(String path) throws SysException {
        return SYS.llistxattr(host(path));
    }

    @Override
    public void removexattr(String path, String name) throws SysException {
        SYS.lremovexattr(host(path), name);
    }

    @Override
    public long[] statfs() throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, root.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY, 0);
        try {
            return SYS.fstatvfs(fd);
        } finally {
            SYS.close(fd);
        }
    }

    @Override
    public void fallocateAndSync(String path, long offset, long length) throws SysException {
        int fd = SYS.openat(Sys.AT_FDCWD, host(path), Sys.O_WRONLY, 0);
        try {
            SYS.fallocate(fd, 0, offset, length);
            SYS.fsync(fd, false);
            SYS.fsync(fd, true);
        } finally {
            SYS.close(fd);
        }
    }

    @Override
    public void close() throws Exception {
        onClose.close();
    }
}
