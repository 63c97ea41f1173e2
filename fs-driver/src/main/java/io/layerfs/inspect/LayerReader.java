package io.layerfs.inspect;

import java.io.IOException;
import java.util.List;

import io.layerfs.sys.Stat;

/**
 * Read access to one layer, whatever holds it: a directory ({@link LayerDir}) or a tar file
 * ({@link TarLayer}). Paths are relative to the layer root, '/'-separated, "." for the root; nothing
 * is followed through a symlink.
 */
abstract class LayerReader {
    final LayerRef ref;

    LayerReader(LayerRef ref) {
        this.ref = ref;
    }

    /** lstat, or null if rel (or a directory on the way to it) does not exist. */
    abstract Stat stat(String rel) throws IOException;

    abstract String readlink(String rel) throws IOException;

    /** Names in directory rel, sorted. */
    abstract List<String> list(String rel) throws IOException;

    abstract List<String> xattrNames(String rel) throws IOException;

    /** The value, or null if there is no such xattr. */
    abstract byte[] xattr(String rel, String name) throws IOException;

    ObjectInfo info(String rel, Stat st) throws IOException {
        return ObjectInfo.of(st, st.isSymlink() ? readlink(rel) : null);
    }

    static String child(String parentRel, String name) {
        return ".".equals(parentRel) ? name : parentRel + "/" + name;
    }

    static String unionPath(String rel) {
        return ".".equals(rel) ? "/" : "/" + rel;
    }

    static String parent(String rel) {
        int slash = rel.lastIndexOf('/');
        return slash < 0 ? "." : rel.substring(0, slash);
    }

    static String name(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }
}
