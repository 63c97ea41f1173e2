package io.layerfs.union;

/** One name of a merged directory listing: the name and its file type bits (S_IFMT), 0 if unknown. */
public final class DirItem {
    public final String name;
    public final int type;
    /** The st_ino the mount shows for this name (0 if not asked for). */
    public final long ino;

    DirItem(String name, int type, long ino) {
        this.name = name;
        this.type = type;
        this.ino = ino;
    }

    @Override
    public String toString() {
        return name;
    }
}
