package io.layerfs.union;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Path lookup through the layers, top-down as overlayfs does it (overlayfs.rst, "Non-directories" and
 * "Directories"): the first layer holding a name supplies it; a whiteout stops the search; directories
 * merge with the directories of the same name below until an opaque one or a non-directory.
 *
 * <p>Results are cached per path. Callers hold the union's read lock while looking up and its write
 * lock while changing the union, so a lookup never caches a result computed across a change.
 */
final class Resolver {
    private static final Object NEGATIVE = new Object();
    /** Beyond this many cached paths the cache starts over: a bound on daemon memory. */
    private static final int MAX_CACHED = 400_000;
    private static final int NAME_MAX = 255;

    private final Sys sys;
    private final Entry root;
    private final ForeignOrigins origins;
    private final Layer upperLayer;
    // guarded by the union's lock: populated under read, invalidated under write
    private final ConcurrentHashMap<String, Object> cache = new ConcurrentHashMap<>();
    /** Objects taken out of the union but reachable by path until unlinked (guarded like cache). */
    private final ConcurrentHashMap<String, Entry> detached = new ConcurrentHashMap<>();

    Resolver(Sys sys, Layer[] layers) throws SysException {
        this.sys = sys;
        this.upperLayer = layers[0].upper ? layers[0] : null;
        this.origins = layers[0].upper
                ? new ForeignOrigins(sys, layers[0], java.util.Arrays.copyOfRange(layers, 1, layers.length)) : null;
        boolean[] xw = new boolean[layers.length];
        for (int i = 0; i < layers.length; i++) {
            xw[i] = Markers.opacity(sys, layers[i], ".") == Markers.Opacity.HAS_XATTR_WHITEOUTS;
        }
        this.root = new Entry("/", ".", layers[0], Stat.S_IFDIR, layers.clone(), xw);
    }

    /**
     * The entry at path ("/" or "/a/b"), or null if no such name is visible. Nothing is cached below a
     * name that does not resolve to a directory (UnionFs.mkdir relies on it).
     */
    Entry lookup(String path) throws SysException {
        return lookup(path, null);
    }

    /**
     * {@link #lookup}; when the entry is not cached and is found, found[0] gets the attributes of
     * its object in its top layer as the search read them (saves the caller that lstat), else stays.
     */
    Entry lookup(String path, Stat[] found) throws SysException {
        if (!detached.isEmpty()) {
            Entry d = detached.get(path);
            if (d != null) {
                return d;
            }
        }
        Object cached = cache.get(path);
        if (cached != null) {
            return cached == NEGATIVE ? null : (Entry) cached;
        }
        if ("/".equals(path)) {
            return root;
        }
        int slash = path.lastIndexOf('/');
        if (slash < 0) {
            throw new SysException(Errno.EINVAL, "not an absolute path: " + path);
        }
        Entry parent = lookup(slash == 0 ? "/" : path.substring(0, slash));
        if (parent == null) {
            return null;
        }
        if (!parent.isDir()) {
            throw new SysException(Errno.ENOTDIR, path);
        }
        Entry e = lookupChild(parent, path.substring(slash + 1), path, found);
        if (cache.size() >= MAX_CACHED) {
            cache.clear();
        }
        cache.put(path, e == null ? NEGATIVE : e);
        return e;
    }

    /** Like {@link #lookup} but ENOENT instead of null. */
    Entry require(String path) throws SysException {
        Entry e = lookup(path);
        if (e == null) {
            throw new SysException(Errno.ENOENT, path);
        }
        return e;
    }

    private Entry lookupChild(Entry parent, String name, String path, Stat[] found) throws SysException {
        if (name.isEmpty() || Markers.isMarkerName(name)) {
            return null;
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > NAME_MAX) {
            throw new SysException(Errno.ENAMETOOLONG, path);
        }
        return scan(parent, name, path, 0, found);
    }

    /**
     * The entry for name in parent, looking only at parent's layers from index {@code from} on
     * (1 skips the upper: "what would show if the upper's entry went away").
     */
    Entry scan(Entry parent, String name, String path, int from) throws SysException {
        return scan(parent, name, path, from, null);
    }

    private Entry scan(Entry parent, String name, String path, int from, Stat[] found) throws SysException {
        String parentRel = parent.rel();
        String rel = Markers.child(parentRel, name);
        // the .wh. name to probe for, built at the first layer that lacks the name, then reused
        String whiteoutRel = null;
        Layer first = null;
        int firstType = 0;
        List<Layer> dirs = null;
        List<Boolean> xw = null;
        Layer[] layers = parent.dirLayers;
        // a name too long to carry the prefix cannot have a .wh. whiteout
        // (UTF-8 takes at most 3 bytes per Java char, so the byte count is needed only for long names)
        boolean ociWhiteoutPossible = name.length() * 3 + Markers.WH_PREFIX.length() <= NAME_MAX
                || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + Markers.WH_PREFIX.length() <= NAME_MAX;
        long withoutWhiteouts = parent.listedWithoutWhiteouts;
        // a whiteout in the parent's last layer hides nothing (no layer below holds the directory),
        // so the name's absence there is the answer either way: no probe (in an upper-only
        // directory, such as every one an untar makes, a new name costs one lstat, not two)
        int last = layers.length - 1;
        for (int i = from; i < layers.length; i++) {
            Layer l = layers[i];
            Stat st = sys.lstatOrNull(l.fd, rel);
            if (st == null) {
                if (i < last && ociWhiteoutPossible && (i >= 64 || (withoutWhiteouts & (1L << i)) == 0)) {
                    if (whiteoutRel == null) {
                        whiteoutRel = Markers.child(parentRel, Markers.WH_PREFIX + name);
                    }
                    if (sys.lstatOrNull(l.fd, whiteoutRel) != null) {
                        break;
                    }
                }
                continue;
            }
            if (Markers.isWhiteoutObject(sys, l, rel, st, parent.xattrWhiteouts[i])) {
                break;
            }
            if (first == null) {
                first = l;
                firstType = st.type();
                if (!st.isDirectory()) {
                    if (!l.upper && st.nlink > 1 && origins != null && path != null) {
                        ForeignOrigins.Copy copy = origins.copyOf(st);
                        if (copy != null) {
                            return new Entry(path, copy.rel, upperLayer, firstType, null, null,
                                    false, true);
                        }
                    }
                    if (found != null) {
                        found[0] = st;
                    }
                    break;
                }
                dirs = new ArrayList<>(4);
                xw = new ArrayList<>(4);
                if (found != null) {
                    found[0] = st;
                }
            } else if (!st.isDirectory()) {
                break;
            }
            Markers.Opacity op = Markers.opacity(sys, l, rel);
            dirs.add(l);
            xw.add(op == Markers.Opacity.HAS_XATTR_WHITEOUTS);
            if (op == Markers.Opacity.OPAQUE) {
                break;
            }
        }
        if (first == null) {
            return null;
        }
        Layer[] dl = null;
        boolean[] xwa = null;
        if (dirs != null) {
            dl = dirs.toArray(new Layer[0]);
            xwa = new boolean[dl.length];
            for (int i = 0; i < xwa.length; i++) {
                xwa[i] = xw.get(i);
            }
        }
        return new Entry(path, rel, first, firstType, dl, xwa);
    }

    /** Whether a layer below the upper would show name in parent if the upper did not hide it. */
    boolean visibleBelowUpper(Entry parent, String name) throws SysException {
        if (parent.dirLayers[0].upper) {
            return scan(parent, name, null, 1) != null;
        }
        return scan(parent, name, null, 0) != null;
    }

    /** Forget path only (a non-directory changed or appeared). Caller holds the write lock. */
    void invalidate(String path) {
        cache.remove(path);
    }

    /** Forget path and everything below it (a directory was removed, renamed or changed layering). */
    void invalidateTree(String path) {
        cache.remove(path);
        String prefix = "/".equals(path) ? "/" : path + "/";
        cache.keySet().removeIf(k -> k.startsWith(prefix));
    }

    void detach(Entry e) {
        detached.put(e.path, e);
    }

    void undetach(String path) {
        detached.remove(path);
    }

    Entry root() {
        return root;
    }
}
