package io.layerfs.union;

import io.layerfs.sys.Stat;

/**
 * The result of looking a path up through the layers: which layer supplies the object and, for a
 * directory, every layer whose directory of that name merges into it (top first, ending at an opaque
 * directory or above a non-directory). Immutable; cached by {@link Resolver} until a change of the
 * union invalidates it.
 */
final class Entry {
    final String path;
    /**
     * The path relative to the layer roots, when it is not {@code path} without its leading slash
     * (the root ".", an alias, a detached object in the workdir); else null, so that a cached entry
     * holds one string, not two (200,000 cached paths: 11 MiB less).
     */
    private final String relOverride;
    final Layer top;
    final int type;
    /** Layers merged into this directory, top first; null for non-directories. */
    final Layer[] dirLayers;
    /** Per dirLayers element: the directory there may hold xattr whiteouts ({@code overlay.opaque=x}). */
    final boolean[] xattrWhiteouts;
    /** Taken out of the union while still open (see UnionFs#detachNamesStartingWith). */
    final boolean detached;
    /**
     * A lower name whose object is shown from its upper copy made under another name (see
     * {@link ForeignOrigins}): rel is the copy's place, not this path's. Linked into place before the
     * name itself changes.
     */
    final boolean alias;
    /**
     * Bit i set: the directory of dirLayers[i], a lower layer (which never changes), was listed and
     * holds no {@code .wh.} name, so a lookup below it need not look for an OCI whiteout there.
     * Set by {@link MergedDirectory#list}; a hint only (a fresh Entry starts without it).
     */
    volatile long listedWithoutWhiteouts;

    Entry(String path, String rel, Layer top, int type, Layer[] dirLayers, boolean[] xattrWhiteouts) {
        this(path, rel, top, type, dirLayers, xattrWhiteouts, false);
    }

    Entry(String path, String rel, Layer top, int type, Layer[] dirLayers, boolean[] xattrWhiteouts,
          boolean detached) {
        this(path, rel, top, type, dirLayers, xattrWhiteouts, detached, false);
    }

    Entry(String path, String rel, Layer top, int type, Layer[] dirLayers, boolean[] xattrWhiteouts,
          boolean detached, boolean alias) {
        this.path = path;
        this.relOverride = path != null && rel.length() == path.length() - 1 && path.startsWith(rel, 1)
                ? null : rel;
        this.top = top;
        this.type = type;
        this.dirLayers = dirLayers;
        this.xattrWhiteouts = xattrWhiteouts;
        this.detached = detached;
        this.alias = alias;
    }

    /** The path relative to the layer roots ("." for the root), to pass with a layer's fd. */
    String rel() {
        return relOverride != null ? relOverride : path.substring(1);
    }

    boolean isDir() {
        return type == Stat.S_IFDIR;
    }

    boolean inUpper() {
        return top.upper;
    }

    /** A directory that also takes entries from a lower layer. */
    boolean isMerged() {
        return dirLayers != null && (dirLayers.length > 1 || !dirLayers[0].upper);
    }

    @Override
    public String toString() {
        return path + " @ " + top;
    }
}
