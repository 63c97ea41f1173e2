package io.layerfs.union;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Copy-ups that fuse-overlayfs made of multiply-linked lower files. fuse-overlayfs records the
 * lower path a file was copied from in {@code user.fuseoverlayfs.origin} and, on its next mount,
 * shows that copy under every other name of the lower file. To show an upper it wrote the same
 * way, the first lookup of a multiply-linked lower file reads those xattrs from the whole upper
 * once. (layerfs itself links every name at copy-up, so its own uppers need none of this; it
 * writes the same xattr at copy-up for {@link InodeNumbers}.)
 */
final class ForeignOrigins {
    static final String FUSE_OVERLAYFS_ORIGIN = "user.fuseoverlayfs.origin";

    /** Where a lower inode's copy lives in the upper, and which inode it is there. */
    static final class Copy {
        final String rel;
        final long dev;
        final long ino;

        Copy(String rel, long dev, long ino) {
            this.rel = rel;
            this.dev = dev;
            this.ino = ino;
        }
    }

    private final Sys sys;
    private final Layer upper;
    private final Layer[] lowers;
    // built once, under the union's read lock by whichever lookup needs it first
    private volatile Map<Long, Map<Long, Copy>> byLowerDevIno;

    ForeignOrigins(Sys sys, Layer upper, Layer[] lowers) {
        this.sys = sys;
        this.upper = upper;
        this.lowers = lowers;
    }

    /** The upper copy of the lower object with this stat, if a foreign copy-up recorded one and it is still there. */
    Copy copyOf(Stat lower) throws SysException {
        Map<Long, Map<Long, Copy>> index = byLowerDevIno;
        if (index == null) {
            index = build();
        }
        Map<Long, Copy> byIno = index.get(lower.dev);
        Copy c = byIno == null ? null : byIno.get(lower.ino);
        if (c == null) {
            return null;
        }
        Stat now = sys.lstatOrNull(upper.fd, c.rel);
        return now != null && now.ino == c.ino && now.dev == c.dev ? c : null;
    }

    private synchronized Map<Long, Map<Long, Copy>> build() throws SysException {
        if (byLowerDevIno == null) {
            Map<Long, Map<Long, Copy>> index = new HashMap<>();
            walk(".", index);
            byLowerDevIno = index;
        }
        return byLowerDevIno;
    }

    private void walk(String rel, Map<Long, Map<Long, Copy>> index) throws SysException {
        for (DirEntry d : sys.listDir(upper.fd, rel)) {
            String child = Markers.child(rel, d.name);
            if (d.type == DirEntry.DT_DIR) {
                walk(child, index);
            } else if (d.type == DirEntry.DT_REG || d.type == DirEntry.DT_UNKNOWN) {
                byte[] origin = sys.lgetxattrAt(upper.fd, child, FUSE_OVERLAYFS_ORIGIN);
                if (origin != null) {
                    record(child, originPath(origin), index);
                }
            }
        }
    }

    private void record(String upperRel, String originRel, Map<Long, Map<Long, Copy>> index) throws SysException {
        if (originRel.isEmpty() || originRel.startsWith("/") || originRel.contains("..")) {
            return;
        }
        Stat copy = sys.lstatOrNull(upper.fd, upperRel);
        if (copy == null || !copy.isRegular()) {
            return;
        }
        for (Layer l : lowers) {
            Stat st = sys.lstatOrNull(l.fd, originRel);
            if (st != null) {
                if (!st.isDirectory() && st.nlink > 1) {
                    index.computeIfAbsent(st.dev, k -> new HashMap<>())
                            .put(st.ino, new Copy(upperRel, copy.dev, copy.ino));
                }
                return;
            }
        }
    }

    static String originPath(byte[] value) {
        int n = value.length;
        while (n > 0 && value[n - 1] == 0) {
            n--;
        }
        return new String(value, 0, n, StandardCharsets.UTF_8);
    }
}
