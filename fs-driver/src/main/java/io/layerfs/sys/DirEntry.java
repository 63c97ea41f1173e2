package io.layerfs.sys;

/** One name read from a directory with getdents64. {@code type} is the d_type (DT_*) value. */
public final class DirEntry {
    public static final int DT_UNKNOWN = 0;
    public static final int DT_FIFO = 1;
    public static final int DT_CHR = 2;
    public static final int DT_DIR = 4;
    public static final int DT_BLK = 6;
    public static final int DT_REG = 8;
    public static final int DT_LNK = 10;
    public static final int DT_SOCK = 12;

    public final String name;
    public final int type;
    public final long ino;

    public DirEntry(String name, int type, long ino) {
        this.name = name;
        this.type = type;
        this.ino = ino;
    }

    @Override
    public String toString() {
        return name + "(" + type + ")";
    }
}
