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
 *
 * <p>The engine uses the package-private checks below on its lookup path. The public part
 * ({@link Encoding} and the {@code classify...} methods) names every encoding, for tools that explain,
 * list, lint and convert layers ({@code io.layerfs.inspect}); it reads nothing itself, so it serves a
 * layer directory and a layer tar alike, and it agrees with the engine's checks (MarkersTest).
 */
public final class Markers {
    static final String WH_PREFIX = ".wh.";
    static final String OPAQUE_FILE = ".wh..wh..opq";
    static final String TRUSTED_OPAQUE = "trusted.overlay.opaque";
    static final String USER_OPAQUE = "user.overlay.opaque";
    static final String FUSE_OVERLAY_OPAQUE = "user.fuseoverlayfs.opaque";
    static final String TRUSTED_WHITEOUT = "trusted.overlay.whiteout";
    static final String USER_WHITEOUT = "user.overlay.whiteout";
    static final byte[] OPAQUE_YES = "y".getBytes(StandardCharsets.US_ASCII);
    static final String TRUSTED_REDIRECT = "trusted.overlay.redirect";
    static final String USER_REDIRECT = "user.overlay.redirect";

    private Markers() {
    }

    /** Overlay-private xattrs: never shown, copied or settable through the mount. */
    public static boolean isPrivateXattr(String name) {
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

    // ---- naming the encodings (public, for io.layerfs.inspect) -----------------------------------------

    /** What a marker does. */
    public enum Kind {
        /** Hides one name of the layers below. */
        WHITEOUT,
        /** Makes a directory hide the directories of the same name below it. */
        OPAQUE,
        /** Points a directory at another lower path (kernel redirect_dir); layerfs does not follow it. */
        REDIRECT
    }

    /** Every on-disk form of a marker that layerfs recognizes, with the name tools print for it. */
    public enum Encoding {
        CHAR_DEVICE(Kind.WHITEOUT, "char-device", "character device 0/0"),
        OCI_WHITEOUT(Kind.WHITEOUT, "oci-whiteout", ".wh.NAME file"),
        TRUSTED_XATTR_WHITEOUT(Kind.WHITEOUT, TRUSTED_WHITEOUT,
                "empty file with xattr trusted.overlay.whiteout, in a directory marked overlay.opaque=x"),
        USER_XATTR_WHITEOUT(Kind.WHITEOUT, USER_WHITEOUT,
                "empty file with xattr user.overlay.whiteout, in a directory marked overlay.opaque=x"),
        TRUSTED_OPAQUE(Kind.OPAQUE, Markers.TRUSTED_OPAQUE, "xattr trusted.overlay.opaque=y"),
        USER_OPAQUE(Kind.OPAQUE, Markers.USER_OPAQUE, "xattr user.overlay.opaque=y"),
        FUSE_OVERLAY_OPAQUE(Kind.OPAQUE, Markers.FUSE_OVERLAY_OPAQUE, "xattr user.fuseoverlayfs.opaque=y"),
        OCI_OPAQUE(Kind.OPAQUE, "oci-opaque", ".wh..wh..opq file"),
        TRUSTED_REDIRECT(Kind.REDIRECT, Markers.TRUSTED_REDIRECT, "xattr trusted.overlay.redirect"),
        USER_REDIRECT(Kind.REDIRECT, Markers.USER_REDIRECT, "xattr user.overlay.redirect");

        private final Kind kind;
        private final String id;
        private final String description;

        Encoding(Kind kind, String id, String description) {
            this.kind = kind;
            this.id = id;
            this.description = description;
        }

        public Kind kind() {
            return kind;
        }

        /** Stable short name for output and scripts: "char-device", "trusted.overlay.opaque", ... */
        public String id() {
            return id;
        }

        /** A few words for people: "character device 0/0". */
        public String description() {
            return description;
        }

        /**
         * Whether kernel overlayfs reads this encoding: mounted as usual (trusted.overlay.*) or with
         * -o userxattr (user.overlay.*). The kernel knows no .wh. files and no user.fuseoverlayfs.*;
         * it reads xattr whiteouts (6.7+) in lower layers only.
         */
        public boolean readByKernel(boolean userxattr) {
            switch (this) {
                case CHAR_DEVICE:
                    return true;
                case TRUSTED_XATTR_WHITEOUT:
                case TRUSTED_OPAQUE:
                case TRUSTED_REDIRECT:
                    return !userxattr;
                case USER_XATTR_WHITEOUT:
                case USER_OPAQUE:
                case USER_REDIRECT:
                    return userxattr;
                default:
                    return false;
            }
        }

        /** The encoding whose {@link #id()} is id, or null. */
        public static Encoding byId(String id) {
            for (Encoding e : values()) {
                if (e.id.equals(id)) {
                    return e;
                }
            }
            return null;
        }
    }

    /** The xattr names that carry opacity, in the order layerfs reads them. */
    public static final java.util.List<String> OPAQUE_XATTRS =
            java.util.List.of(TRUSTED_OPAQUE, USER_OPAQUE, FUSE_OVERLAY_OPAQUE);

    /**
     * The opaque encoding that xattr name=value sets on a directory, or null (the value must be
     * exactly "y", as {@link #opacity} reads it; "x" is {@link #announcesXattrWhiteouts}).
     */
    public static Encoding classifyOpaqueXattr(String name, byte[] value) {
        if (value == null || value.length != 1 || value[0] != 'y') {
            return null;
        }
        switch (name) {
            case TRUSTED_OPAQUE: return Encoding.TRUSTED_OPAQUE;
            case USER_OPAQUE: return Encoding.USER_OPAQUE;
            case FUSE_OVERLAY_OPAQUE: return Encoding.FUSE_OVERLAY_OPAQUE;
            default: return null;
        }
    }

    /** Whether xattr name=value marks a directory as holding xattr whiteouts ({@code overlay.opaque=x}). */
    public static boolean announcesXattrWhiteouts(String name, byte[] value) {
        return OPAQUE_XATTRS.contains(name) && value != null && value.length == 1 && value[0] == 'x';
    }

    /**
     * The xattr whiteout encoding of an object with these xattr names, or null. It is a whiteout only
     * if it is also an empty regular file in a directory that {@link #announcesXattrWhiteouts}, as
     * {@link #isWhiteoutObject} requires.
     */
    public static Encoding classifyWhiteoutXattrs(java.util.Collection<String> xattrNames) {
        if (xattrNames.contains(TRUSTED_WHITEOUT)) {
            return Encoding.TRUSTED_XATTR_WHITEOUT;
        }
        if (xattrNames.contains(USER_WHITEOUT)) {
            return Encoding.USER_XATTR_WHITEOUT;
        }
        return null;
    }

    /** The redirect encoding of an xattr name, or null. */
    public static Encoding classifyRedirectXattr(String name) {
        switch (name) {
            case TRUSTED_REDIRECT: return Encoding.TRUSTED_REDIRECT;
            case USER_REDIRECT: return Encoding.USER_REDIRECT;
            default: return null;
        }
    }

    /** The name that directory entry {@code name} whites out in OCI form ({@code .wh.NAME}), or null. */
    public static String ociWhiteoutTarget(String name) {
        if (!name.startsWith(WH_PREFIX) || name.equals(OPAQUE_FILE) || name.length() == WH_PREFIX.length()) {
            return null;
        }
        return name.substring(WH_PREFIX.length());
    }

    /** The OCI whiteout entry name for name: {@code .wh.NAME}. */
    public static String ociWhiteoutName(String name) {
        return WH_PREFIX + name;
    }

    /** Whether a directory entry of this name makes its directory opaque in OCI form. */
    public static boolean isOciOpaqueName(String name) {
        return OPAQUE_FILE.equals(name);
    }

    /** Whether layerfs treats a name as union metadata that is never shown ({@code .wh.} prefix). */
    public static boolean isReservedName(String name) {
        return isMarkerName(name);
    }
}
