package io.layerfs.sys;

/**
 * An lstat result, copied out of the kernel's struct stat (x86_64 layout). Immutable so the engine can
 * cache and share it; {@link #withIno} and friends return altered copies.
 */
public final class Stat {
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    public final long dev;
    public final long ino;
    public final long nlink;
    public final int mode;
    public final int uid;
    public final int gid;
    public final long rdev;
    public final long size;
    public final long blksize;
    public final long blocks;
    public final long atimeSec;
    public final long atimeNsec;
    public final long mtimeSec;
    public final long mtimeNsec;
    public final long ctimeSec;
    public final long ctimeNsec;

    public Stat(long dev, long ino, long nlink, int mode, int uid, int gid, long rdev, long size, long blksize,
                long blocks, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec, long ctimeSec,
                long ctimeNsec) {
        this.dev = dev;
        this.ino = ino;
        this.nlink = nlink;
        this.mode = mode;
        this.uid = uid;
        this.gid = gid;
        this.rdev = rdev;
        this.size = size;
        this.blksize = blksize;
        this.blocks = blocks;
        this.atimeSec = atimeSec;
        this.atimeNsec = atimeNsec;
        this.mtimeSec = mtimeSec;
        this.mtimeNsec = mtimeNsec;
        this.ctimeSec = ctimeSec;
        this.ctimeNsec = ctimeNsec;
    }

    public int type() {
        return mode & S_IFMT;
    }

    public boolean isDirectory() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    /** The kernel overlayfs whiteout: a character device with device number 0/0 (overlayfs.rst, "whiteouts"). */
    public boolean isWhiteoutDevice() {
        return type() == S_IFCHR && rdev == 0;
    }

    public int permissions() {
        return mode & 07777;
    }

    public Stat withIno(long newIno) {
        return new Stat(dev, newIno, nlink, mode, uid, gid, rdev, size, blksize, blocks, atimeSec, atimeNsec,
                mtimeSec, mtimeNsec, ctimeSec, ctimeNsec);
    }

    public Stat with(long newIno, long newNlink) {
        if (newIno == ino && newNlink == nlink) {
            return this;
        }
        return new Stat(dev, newIno, newNlink, mode, uid, gid, rdev, size, blksize, blocks, atimeSec, atimeNsec,
                mtimeSec, mtimeNsec, ctimeSec, ctimeNsec);
    }

    public Stat withNlink(long newNlink) {
        return new Stat(dev, ino, newNlink, mode, uid, gid, rdev, size, blksize, blocks, atimeSec, atimeNsec,
                mtimeSec, mtimeNsec, ctimeSec, ctimeNsec);
    }

    @Override
    public String toString() {
        return "Stat{dev=" + dev + ", ino=" + ino + ", mode=0" + Integer.toOctalString(mode) + ", nlink=" + nlink
                + ", uid=" + uid + ", gid=" + gid + ", size=" + size + ", rdev=" + rdev + "}";
    }
}
