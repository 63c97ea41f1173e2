package io.layerfs.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Reads the overlay encodings of one layer directory (a container's upper or a stored layer's diff):
 * whiteouts and opaque directories as overlayfs.rst "whiteouts and opaque directories" defines them,
 * plus the OCI-style names fuse-overlayfs writes without privileges (image-spec layer.md "Whiteouts").
 * Only reads; {@link Changes} and {@link LayerTarWriter} decide what the markers mean for them.
 */
final class UpperTree {
    static final String WH_PREFIX = ".wh.";
    static final String OPAQUE_FILE = ".wh..wh..opq";
    private static final List<String> OPAQUE_XATTRS =
            List.of("trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque");

    private UpperTree() {
    }

    static Stat lstat(Path p) throws IOException {
        try {
            return Sys.get().lstatOrNull(Sys.AT_FDCWD, p.toString());
        } catch (SysException e) {
            throw new IOException("cannot stat " + p + ": " + e.getMessage(), e);
        }
    }

    /** Names in dir, sorted by their UTF-8 bytes (the order of the tar and of the listing). */
    static List<String> names(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try {
            for (DirEntry e : Sys.get().listDir(Sys.AT_FDCWD, dir.toString())) {
                if (!e.name.equals(".") && !e.name.equals("..")) {
                    out.add(e.name);
                }
            }
        } catch (SysException e) {
            throw new IOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        out.sort(UpperTree::compareBytes);
        return out;
    }

    static int compareBytes(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** A kernel whiteout: a character device 0/0. */
    static boolean isWhiteout(Stat st) {
        return st != null && (st.mode & Stat.S_IFMT) == Stat.S_IFCHR && st.rdev == 0;
    }

    static boolean isDir(Stat st) {
        return st != null && (st.mode & Stat.S_IFMT) == Stat.S_IFDIR;
    }

    /** An opaque directory: overlay.opaque=y in any of its namespaces, or a .wh..wh..opq inside. */
    static boolean isOpaque(Path dir) throws IOException {
        Sys sys = Sys.get();
        try {
            List<String> names = sys.llistxattr(dir.toString());
            for (String n : OPAQUE_XATTRS) {
                if (names.contains(n)) {
                    byte[] v = sys.lgetxattr(dir.toString(), n);
                    if (v != null && v.length == 1 && v[0] == 'y') {
                        return true;
                    }
                }
            }
        } catch (SysException e) {
            throw new IOException("cannot read xattrs of " + dir + ": " + e.getMessage(), e);
        }
        return lstat(dir.resolve(OPAQUE_FILE)) != null;
    }

    /** Overlay-private xattrs, which describe the layer and are never content. */
    static boolean isPrivateXattr(String name) {
        return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")
                || name.startsWith("user.fuseoverlayfs.");
    }
}
