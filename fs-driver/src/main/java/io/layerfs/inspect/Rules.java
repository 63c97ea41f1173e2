package io.layerfs.inspect;

import io.layerfs.union.Markers;
import io.layerfs.union.Markers.Encoding;

/**
 * Which marker encodings a reader of the layers acts on. layerfs reads every encoding (README,
 * "Semantics"); kernel overlayfs reads character-device whiteouts and its own xattr namespace only,
 * {@code trusted.overlay.*}, or {@code user.overlay.*} when mounted with {@code -o userxattr}
 * (overlayfs.rst, "whiteouts and opaque directories", "User xattr"). The kernel treats a
 * {@code .wh.} file as an ordinary file, and reads xattr whiteouts in lower layers only (seen on 6.18:
 * in an upper it lists the name and then fails to stat it).
 */
public enum Rules {
    /** layerfs (and, near enough, fuse-overlayfs): every encoding. */
    LAYERFS("layerfs"),
    /** Kernel overlayfs mounted as usual: trusted.overlay.* xattrs. */
    KERNEL("kernel"),
    /** Kernel overlayfs mounted with -o userxattr: user.overlay.* xattrs. */
    KERNEL_USERXATTR("userxattr");

    private final String id;

    Rules(String id) {
        this.id = id;
    }

    /** "layerfs", "kernel" or "userxattr". */
    public String id() {
        return id;
    }

    public static Rules byId(String id) {
        for (Rules r : values()) {
            if (r.id.equals(id)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown rules " + id + ": use layerfs, kernel or userxattr");
    }

    /** Whether this reader acts on a marker of this encoding found in a layer (upper or lower). */
    public boolean reads(Encoding e, boolean upperLayer) {
        if (e.kind() == Markers.Kind.REDIRECT) {
            return false;
        }
        if (this == LAYERFS) {
            return true;
        }
        boolean xattrWhiteout = e == Encoding.TRUSTED_XATTR_WHITEOUT || e == Encoding.USER_XATTR_WHITEOUT;
        return e.readByKernel(this == KERNEL_USERXATTR) && !(xattrWhiteout && upperLayer);
    }

    /** Whether the reader hides every name starting with ".wh." (only layerfs: the kernel shows them). */
    public boolean hidesWhPrefixedNames() {
        return this == LAYERFS;
    }

    /** Whether an {@code opaque=x} in this xattr makes this reader look for xattr whiteouts in the directory. */
    boolean announcesWith(String opaqueXattr) {
        switch (this) {
            case LAYERFS: return Markers.OPAQUE_XATTRS.contains(opaqueXattr);
            case KERNEL: return opaqueXattr.equals(Encoding.TRUSTED_OPAQUE.id());
            default: return opaqueXattr.equals(Encoding.USER_OPAQUE.id());
        }
    }

    /** Why this reader ignores a marker of encoding e, in a few words. */
    String whyIgnored(Encoding e, boolean upperLayer) {
        if (e.kind() == Markers.Kind.REDIRECT) {
            return this == LAYERFS ? "layerfs does not follow redirects (kernel overlayfs does with redirect_dir=on)"
                    : "followed only with redirect_dir=on; this analysis does not follow redirects";
        }
        String reader = this == LAYERFS ? "layerfs" : this == KERNEL ? "kernel overlayfs"
                : "kernel overlayfs with userxattr";
        if ((e == Encoding.TRUSTED_XATTR_WHITEOUT || e == Encoding.USER_XATTR_WHITEOUT) && upperLayer
                && e.readByKernel(this == KERNEL_USERXATTR)) {
            return reader + " reads xattr whiteouts only in lower layers";
        }
        return reader + " does not know this encoding (" + e.description() + ")";
    }
}
