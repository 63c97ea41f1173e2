package io.layerfs.inspect;

import java.time.Instant;

import io.layerfs.sys.Stat;

/**
 * The attributes of one object in one layer, as lstat sees it there.
 *
 * @param type        "dir", "file", "symlink", "char", "block", "fifo" or "socket"
 * @param mode        permission bits (07777)
 * @param linkTarget  the target of a symlink, else null
 * @param rdevMajor   device number of a device node, else -1
 */
public record ObjectInfo(String type, int mode, int uid, int gid, long size, long nlink, long dev, long ino,
                         long mtimeSec, long mtimeNsec, String linkTarget, int rdevMajor, int rdevMinor) {

    static ObjectInfo of(Stat st, String linkTarget) {
        boolean device = st.type() == Stat.S_IFCHR || st.type() == Stat.S_IFBLK;
        return new ObjectInfo(typeName(st.type()), st.permissions(), st.uid, st.gid, st.size, st.nlink, st.dev,
                st.ino, st.mtimeSec, st.mtimeNsec, linkTarget, device ? major(st.rdev) : -1,
                device ? minor(st.rdev) : -1);
    }

    public boolean isDirectory() {
        return "dir".equals(type);
    }

    public boolean isFile() {
        return "file".equals(type);
    }

    public Instant mtime() {
        return Instant.ofEpochSecond(mtimeSec, mtimeNsec);
    }

    /** "file 0644 0:0 12 bytes", "symlink -> x", "dir 0755 0:0", "char 1,3 0666 0:0". */
    public String summary() {
        StringBuilder b = new StringBuilder(type);
        if ("symlink".equals(type)) {
            return b.append(" -> ").append(linkTarget).append(' ').append(uid).append(':').append(gid).toString();
        }
        if (rdevMajor >= 0) {
            b.append(' ').append(rdevMajor).append(',').append(rdevMinor);
        }
        b.append(' ').append(String.format("%04o", mode)).append(' ').append(uid).append(':').append(gid);
        if (isFile()) {
            b.append(", ").append(size).append(size == 1 ? " byte" : " bytes");
        }
        return b.toString();
    }

    /** A type name a sentence can use: "regular file", "directory", "symbolic link", ... */
    public String noun() {
        switch (type) {
            case "dir": return "directory";
            case "file": return "regular file";
            case "symlink": return "symbolic link";
            case "char": return "character device";
            case "block": return "block device";
            case "fifo": return "fifo";
            case "socket": return "socket";
            default: return type;
        }
    }

    static String typeName(int type) {
        switch (type) {
            case Stat.S_IFDIR: return "dir";
            case Stat.S_IFREG: return "file";
            case Stat.S_IFLNK: return "symlink";
            case Stat.S_IFCHR: return "char";
            case Stat.S_IFBLK: return "block";
            case Stat.S_IFIFO: return "fifo";
            case Stat.S_IFSOCK: return "socket";
            default: return "type0" + Integer.toOctalString(type);
        }
    }

    /** Linux's major(3) of a dev_t. */
    static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }
}
