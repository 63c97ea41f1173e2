package io.layerfs.union;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The on-disk encodings of whiteouts and opaque directories that layerfs reads, and the one it writes
 * (the kernel's). See Documentation/filesystems/overlayfs.rst, "whiteouts and opaque directories",
 * and the OCI image spec, layer.md "Whiteouts".
 *
 * <ul>
 *   <li>whiteout: character device 0/0 (kernel, written by layerfs); {@code .wh.NAME} beside it (OCI,
 *       fuse-overlayfs without privileges); a zero-size regular file with {@code trusted.overlay.whiteout}
 *       or {@code user.overlay.whiteout} (kernel 6.7+, in a directory marked {@code overlay.opaque=x}).</li>
 *   <li>opaque directory: {@code trusted.overlay.opaque=y} (kernel, written by layerfs),
 *       {@code user.overlay.opaque=y}, {@code user.fuseoverlayfs.opaque=y}, or a {@code .wh..wh..opq} file.</li>
 * </ul>
 */
final class Markers {
    static final String WH_PREFIX = ".wh.";
    static final String OPAQUE_FILE = ".wh..wh..opq";
    static final String TRUSTED_OPAQUE = "trusted.overlay.opaque";
    static final String USER_OPAQUE = "user.overlay.opaque";
    static final String FUSE_OVERLAY_OPAQUE = "user.fuseoverlayfs.opaque";
    static final String TRUSTED_WHITEOUT = "trusted.overlay.whiteout";
    static final String USER_WHITEOUT = "user.overlay.whiteout";
    static final byte[] OPAQUE_YES = "y".getBytes(StandardCharsets.US_ASCII);

    private Markers() {
    }

    /** Overlay-private xattrs: never shown, copied or settable through the mount. */
    static boolean isPrivateXattr(String name) {
        return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")
                || name.startsWith("user.fuseoverlayfs.");
    }

    /** A name that only carries union metadata and is never shown itself. */
    static boolean isMarkerName(String name) {
        return name.startsWith(WH_PREFIX);
    }

    /** Opacity of a directory in one layer. */
    enum Opacity {
        /** Merges with the layers below. */
        NONE,
        /** Merges, and may hold xattr whiteouts ({@code overlay.opaque=x}). */
        HAS_XATTR_WHITEOUTS,
        /** Hides everything below it. */
        OPAQUE
    }

    static Opacity opacity(Sys sys, Layer layer, String rel) throws SysException {
        List<String> names = sys.llistxattrAt(layer.fd, rel);
        Opacity result = Opacity.NONE;
        for (String n : names) {
            if (n.equals(TRUSTED_OPAQUE) || n.equals(USER_OPAQUE) || n.equals(FUSE_OVERLAY_OPAQUE)) {
                byte[] v = sys.lgetxattrAt(layer.fd, rel, n);
                if (v != null && v.length == 1 && v[0] == 'y') {
                    return Opacity.OPAQUE;
                }
                if (v != null && v.length == 1 && v[0] == 'x') {
                    result = Opacity.HAS_XATTR_WHITEOUTS;
                }
            }
        }
        if (sys.lstatOrNull(layer.fd, child(rel, OPAQUE_FILE)) != null) {
            return Opacity.OPAQUE;
        }
        return result;
    }

    /**
     * Whether an object found in a layer is a whiteout in its own right (0/0 device, or an xattr
     * whiteout inside a directory that announces them).
     */
    static boolean isWhiteoutObject(Sys sys, Layer layer, String rel, Stat st, boolean parentHasXattrWhiteouts)
            throws SysException {
        if (st.isWhiteoutDevice()) {
            return true;
        }
        if (parentHasXattrWhiteouts && st.isRegular() && st.size == 0) {
            return sys.lgetxattrAt(layer.fd, rel, TRUSTED_WHITEOUT) != null
                    || sys.lgetxattrAt(layer.fd, rel, USER_WHITEOUT) != null;
        }
        return false;
    }

    static String child(String parentRel, String name) {
        return ".".equals(parentRel) ? name : parentRel + "/" + name;
    }
}
