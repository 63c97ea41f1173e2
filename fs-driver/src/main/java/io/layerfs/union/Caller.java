package io.layerfs.union;

/** Who asks for a new object: its owner comes from here (the kernel has already checked permissions). */
public final class Caller {
    public static final Caller ROOT = new Caller(0, 0);

    public final int uid;
    public final int gid;

    public Caller(int uid, int gid) {
        this.uid = uid;
        this.gid = gid;
    }
}
