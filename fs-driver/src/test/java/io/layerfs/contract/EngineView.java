package io.layerfs.contract;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.Caller;
import io.layerfs.union.DirItem;
import io.layerfs.union.UnionFs;

/** The union engine driven in-process, as the FUSE adapter drives it. */
public final class EngineView implements UnionView {
    private final UnionFs fs;

    public EngineView(UnionFs fs) {
        this.fs = fs;
    }

    public UnionFs engine() {
        return fs;
    }

    @Override
    public Stat stat(String path) throws SysException {
        return fs.getattr(path);
    }

    @Override
    public List<String> list(String path) throws SysException {
        List<String> names = new ArrayList<>();
        for (DirItem i : fs.list(path)) {
            names.add(i.name);
        }
        names.sort(null);
        return names;
    }

    @Override
    public byte[] read(String path) throws SysException {
        long fh = fs.open(path, Sys.O_RDONLY);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            long off = 0;
            int n;
            while ((n = fs.read(fh, buf, buf.length, off)) > 0) {
                out.write(buf, 0, n);
                off += n;
            }
            return out.toByteArray();
        } finally {
            fs.release(fh);
        }
    }

    private void writeWith(String path, int flags, long offset, byte[] data) throws SysException {
        long fh;
        try {
            fh = fs.open(path, flags);
        } catch (SysException e) {
            if (e.errno() != 2) {
                throw e;
            }
            fh = fs.create(path, 0644, flags | Sys.O_CREAT, Caller.ROOT);
        }
        try {
            long off = offset;
            if ((flags & Sys.O_APPEND) != 0) {
                off = fs.fgetattr(fh).size;
            }
            if (data.length > 0) {
                fs.write(fh, data, data.length, off);
            }
        } finally {
            fs.release(fh);
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
        fs.release(fs.open(path, Sys.O_WRONLY | Sys.O_TRUNC));
    }

    @Override
    public void truncate(String path, long size) throws SysException {
        fs.truncate(path, size);
    }

    @Override
    public void mkdir(String path, int mode) throws SysException {
        fs.mkdir(path, mode, Caller.ROOT);
    }

    @Override
    public void unlink(String path) throws SysException {
        fs.unlink(path);
    }

    @Override
    public void rmdir(String path) throws SysException {
        fs.rmdir(path);
    }

    @Override
    public void rename(String from, String to) throws SysException {
        fs.rename(from, to);
    }

    @Override
    public void link(String from, String to) throws SysException {
        fs.link(from, to);
    }

    @Override
    public void symlink(String target, String path) throws SysException {
        fs.symlink(target, path, Caller.ROOT);
    }

    @Override
    public String readlink(String path) throws SysException {
        return fs.readlink(path);
    }

    @Override
    public void mknod(String path, int mode, long rdev) throws SysException {
        fs.mknod(path, mode, rdev, Caller.ROOT);
    }

    @Override
    public void chmod(String path, int mode) throws SysException {
        fs.chmod(path, mode);
    }

    @Override
    public void chown(String path, int uid, int gid) throws SysException {
        fs.chown(path, uid, gid);
    }

    @Override
    public void utimes(String path, long aSec, long aNsec, long mSec, long mNsec) throws SysException {
        fs.utimens(path, aSec, aNsec, mSec, mNsec);
    }

    @Override
    public void setxattr(String path, String name, byte[] value) throws SysException {
        fs.setxattr(path, name, value, 0);
    }

    @Override
    public byte[] getxattr(String path, String name) throws SysException {
        return fs.getxattr(path, name);
    }

    @Override
    public List<String> listxattr(String path) throws SysException {
        return fs.listxattr(path);
    }

    @Override
    public void removexattr(String path, String name) throws SysException {
        fs.removexattr(path, name);
    }

    @Override
    public long[] statfs() throws SysException {
        return fs.statfs();
    }

    @Override
    public void fallocateAndSync(String path, long offset, long length) throws SysException {
        long fh = fs.open(path, Sys.O_WRONLY);
        try {
            fs.fallocate(fh, 0, offset, length);
            fs.fsync(fh, false);
            fs.fsync(fh, true);
        } finally {
            fs.release(fh);
        }
    }

    @Override
    public void close() {
        fs.close();
    }
}
