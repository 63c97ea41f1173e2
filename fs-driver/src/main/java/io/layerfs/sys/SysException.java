package io.layerfs.sys;

/** A failed system call: carries the errno so the FUSE adapter can answer with it unchanged. */
public final class SysException extends Exception {
    private final int errno;

    public SysException(int errno, String what) {
        super(what + ": " + Errno.name(errno), null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
