package io.layerfs.sys;

/** Linux errno values (asm-generic/errno-base.h, errno.h) that layerfs produces or tests for. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMLINK = 31;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOTCONN = 107;
    public static final int ENOTSUP = EOPNOTSUPP;

    private Errno() {
    }

    public static String name(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case EIO: return "EIO";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case EXDEV: return "EXDEV";
            case ENODEV: return "ENODEV";
            case ENOTDIR: return "ENOTDIR";
            case EISDIR: return "EISDIR";
            case EINVAL: return "EINVAL";
            case EMLINK: return "EMLINK";
            case ENOSPC: return "ENOSPC";
            case EROFS: return "EROFS";
            case ERANGE: return "ERANGE";
            case ENAMETOOLONG: return "ENAMETOOLONG";
            case ENOSYS: return "ENOSYS";
            case ENOTEMPTY: return "ENOTEMPTY";
            case ELOOP: return "ELOOP";
            case ENODATA: return "ENODATA";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case ENOTCONN: return "ENOTCONN";
            default: return "errno " + errno;
        }
    }
}
