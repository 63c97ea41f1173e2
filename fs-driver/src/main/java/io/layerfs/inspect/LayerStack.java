package io.layerfs.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.layerfs.inspect.Version.Status;
import io.layerfs.sys.Stat;

/**
 * A stack of layer directories (or of layer tars, {@link #ofTars}) seen as one union, for explaining
 * lookups: lowers highest first (the order of {@code lowerdir=}) under an optional upper. Nothing is mounted; every answer is
 * read from the layer directories under the given {@link Rules}.
 *
 * <p>The lookup is overlayfs' (overlayfs.rst, "Non-directories", "Directories"), as the engine's
 * Resolver does it: component by component, a name is searched top-down through the layers whose
 * directory the parent merges; the first whiteout stops the search (the name is hidden), the first
 * non-directory stops it (it is shown, or ends a directory merge), and directories merge until an
 * opaque one. Unlike the engine, every layer is looked at, including those cut off, so each
 * version can say why it is not seen.
 *
 * <pre>
 *   LayerStack stack = LayerStack.of(List.of(top, base), upper, Rules.LAYERFS);
 *   Explanation e = stack.explain("/etc/motd");
 *   e.visible();  e.target().supplier();  e.target().versions();  e.target().hiddenBy();
 * </pre>
 *
 * Lookups are cached per path for the life of the object (the layers are assumed not to change
 * meanwhile); not thread-safe.
 */
public final class LayerStack {
    private static final int MAX_CACHED = 200_000;

    private final List<LayerRef> layers;
    private final LayerReader[] dirs;
    private final Rules rules;
    private final Map<String, Level> cache = new HashMap<>();

    private LayerStack(List<LayerRef> layers, LayerReader[] readers, Rules rules) {
        this.layers = List.copyOf(layers);
        this.rules = rules;
        this.dirs = readers;
    }

    private static LayerReader[] dirs(List<LayerRef> layers) {
        LayerReader[] out = new LayerReader[layers.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new LayerDir(layers.get(i));
        }
        return out;
    }

    /**
     * @param lowers lower layer directories, highest first; at least one unless upper is given
     * @param upper  the upper directory, or null
     * @throws NoSuchFileException   if a layer does not exist
     * @throws NotDirectoryException if a layer is not a directory
     */
    public static LayerStack of(List<Path> lowers, Path upper, Rules rules) throws IOException {
        List<LayerRef> refs = new ArrayList<>();
        if (upper != null) {
            refs.add(new LayerRef(0, "upper", checkDir(upper), true));
        }
        for (int i = 0; i < lowers.size(); i++) {
            refs.add(new LayerRef(refs.size(), "lower " + (i + 1), checkDir(lowers.get(i)), false));
        }
        if (refs.isEmpty()) {
            throw new IllegalArgumentException("a layer stack needs at least one layer");
        }
        return new LayerStack(refs, dirs(refs), rules);
    }

    /**
     * A stack of layer tars (plain, gzip, bzip2 or zstd), highest first, named "lower 1" (the top)
     * to "lower N" like lowers. Each tar is read once and indexed in memory without its data; regular
     * files keep a SHA-256 of their content, so {@link Lint} can compare them across layers.
     *
     * @throws NoSuchFileException if a tar does not exist
     * @throws IOException         if one is not a readable tar, or an entry leaves the layer
     */
    public static LayerStack ofTars(List<Path> tars, Rules rules) throws IOException {
        if (tars.isEmpty()) {
            throw new IllegalArgumentException("a layer stack needs at least one layer");
        }
        List<LayerRef> refs = new ArrayList<>();
        LayerReader[] readers = new LayerReader[tars.size()];
        for (int i = 0; i < tars.size(); i++) {
            Path abs = tars.get(i).toAbsolutePath().normalize();
            if (!Files.exists(abs)) {
                throw new NoSuchFileException(abs.toString(), null, "layer does not exist");
            }
            LayerRef ref = new LayerRef(i, "lower " + (i + 1), abs, false);
            refs.add(ref);
            readers[i] = TarLayer.read(ref, true);
        }
        return new LayerStack(refs, readers, rules);
    }

    /** The layer's real path: layers are often symlinks (containers/storage's l/ short names). */
    private static Path checkDir(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        if (!Files.exists(abs)) {
            throw new NoSuchFileException(abs.toString(), null, "layer does not exist");
        }
        if (!Files.isDirectory(abs)) {
            throw new NotDirectoryException(abs.toString());
        }
        return abs.toRealPath();
    }

    /** The layers, top first. */
    public List<LayerRef> layers() {
        return layers;
    }

    public Rules rules() {
        return rules;
    }

    /** The stack of the layers below layer (same names), or null if layer is the bottom one. */
    public LayerStack below(LayerRef layer) {
        int at = layers.indexOf(layer);
        if (at < 0) {
            throw new IllegalArgumentException(layer + " is not in this stack");
        }
        return at == layers.size() - 1 ? null : new LayerStack(layers.subList(at + 1, layers.size()),
                java.util.Arrays.copyOfRange(dirs, at + 1, dirs.length), rules);
    }

    /** How layer is read: a directory, or a tar indexed in memory. */
    LayerReader reader(LayerRef layer) {
        int at = layers.indexOf(layer);
        if (at < 0) {
            throw new IllegalArgumentException(layer + " is not in this stack");
        }
        return dirs[at];
    }

    /** The same layers read under other rules. */
    public LayerStack withRules(Rules other) {
        return other == rules ? this : new LayerStack(layers, dirs, other);
    }

    /**
     * Why path is visible or not, with every layer's version of it and of each ancestor.
     *
     * @param path a union path, "/a/b" or "a/b"; "." and ".." are resolved lexically
     */
    public Explanation explain(String path) throws IOException {
        String p = normalize(path);
        List<Step> steps = new ArrayList<>();
        if (p.equals("/")) {
            steps.add(level("/").step);
        } else {
            int from = 1;
            while (from <= p.length()) {
                int slash = p.indexOf('/', from);
                int end = slash < 0 ? p.length() : slash;
                steps.add(level(p.substring(0, end)).step);
                from = end + 1;
            }
        }
        return new Explanation(p, rules, steps);
    }

    /** The last step of {@link #explain}: what the union has at path. */
    public Step lookup(String path) throws IOException {
        return level(normalize(path)).step;
    }

    /** "/a/b" for "a/b", "/a/b/", "/a/./b", "/a/c/../b"; "/" for "", "." and "/". */
    public static String normalize(String path) {
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path contains a NUL byte");
        }
        List<String> parts = new ArrayList<>();
        for (String c : path.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(c);
        }
        return parts.isEmpty() ? "/" : "/" + String.join("/", parts);
    }

    // ---- the lookup ----------------------------------------------------------------------------------

    /** The state after looking up one path: its step, and per layer where the search goes on below it. */
    private static final class Level {
        final Step step;
        /** Layer i's directory merges into this path's directory. */
        final boolean[] contributes;
        /** Why layer i no longer contributes (null: it never had a directory here). */
        final Cause[] cut;
        /** Layer i has a directory at this path, whether it contributes or not. */
        final boolean[] physDir;
        /** Layer i's directory here announces xattr whiteouts under the rules. */
        final boolean[] xattrWhiteouts;

        Level(Step step, boolean[] contributes, Cause[] cut, boolean[] physDir, boolean[] xattrWhiteouts) {
            this.step = step;
            this.contributes = contributes;
            this.cut = cut;
            this.physDir = physDir;
            this.xattrWhiteouts = xattrWhiteouts;
        }
    }

    private Level level(String path) throws IOException {
        Level l = cache.get(path);
        if (l != null) {
            return l;
        }
        if (path.equals("/")) {
            l = root();
        } else {
            int slash = path.lastIndexOf('/');
            Level parent = level(slash == 0 ? "/" : path.substring(0, slash));
            l = child(parent, path, path.substring(slash + 1));
        }
        if (cache.size() >= MAX_CACHED) {
            cache.clear();
        }
        cache.put(path, l);
        return l;
    }

    /** The root merges every layer's root; a layer root's opacity is ignored, as overlayfs does. */
    private Level root() throws IOException {
        int n = dirs.length;
        boolean[] contributes = new boolean[n];
        boolean[] phys = new boolean[n];
        boolean[] xw = new boolean[n];
        List<Version> versions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Stat st = dirs[i].stat(".");
            DirMarkers dm = DirMarkers.read(dirs[i], ".", rules);
            contributes[i] = true;
            phys[i] = true;
            xw[i] = dm.xattrWhiteouts();
            List<Marker> ignored = new ArrayList<>(dm.ignored());
            for (Marker m : dm.opaque()) {
                ignored.add(m.ignored("a layer's root directory is never opaque"));
            }
            versions.add(new Version(layers.get(i), dirs[i].info(".", st), null, List.of(), ignored,
                    i == 0 ? Status.SUPPLIES : Status.MERGED, null));
        }
        Step step = new Step("/", true, layers.get(0), layers, versions, null, null, List.of());
        return new Level(step, contributes, new Cause[n], phys, xw);
    }

    private Level child(Level parent, String path, String name) throws IOException {
        int n = dirs.length;
        String parentRel = parent.step.path().equals("/") ? "." : parent.step.path().substring(1);
        Probe[] probes = new Probe[n];
        for (int i = 0; i < n; i++) {
            if (parent.physDir[i]) {
                probes[i] = Probe.of(dirs[i], rules, parentRel, name, parent.xattrWhiteouts[i]);
            }
        }
        boolean[] contributes = new boolean[n];
        Cause[] cut = new Cause[n];
        Status[] status = new Status[n];
        Cause[] causes = new Cause[n];
        List<LayerRef> merged = new ArrayList<>();
        Cause stop = null;
        int supplier = -1;
        if (rules.hidesWhPrefixedNames() && name.startsWith(".wh.")) {
            stop = new Cause(Cause.Kind.RESERVED_NAME, path, null, null, null);
        }
        for (int i = 0; i < n; i++) {
            Probe p = probes[i];
            boolean present = p != null && p.state != Probe.State.ABSENT;
            if (!parent.contributes[i]) {
                cut[i] = parent.cut[i];
                if (present) {
                    status[i] = Status.HIDDEN;
                    causes[i] = parent.cut[i];
                }
                continue;
            }
            if (stop != null) {
                cut[i] = stop;
                if (present) {
                    status[i] = Status.HIDDEN;
                    causes[i] = stop;
                }
                continue;
            }
            if (!present) {
                continue;
            }
            LayerRef layer = layers.get(i);
            if (p.state == Probe.State.WHITEOUT) {
                status[i] = Status.HIDES;
                stop = new Cause(Cause.Kind.WHITEOUT, path, layer, p.whiteout, null);
            } else if (supplier < 0) {
                supplier = i;
                status[i] = Status.SUPPLIES;
                if (p.isDirectory()) {
                    contributes[i] = true;
                    merged.add(layer);
                    if (p.dir.isOpaque()) {
                        stop = new Cause(Cause.Kind.OPAQUE, path, layer, p.dir.opaque().get(0), null);
                    }
                } else {
                    stop = new Cause(Cause.Kind.SHADOWED, path, layer, null, p.object);
                }
            } else if (p.isDirectory()) {
                status[i] = Status.MERGED;
                contributes[i] = true;
                merged.add(layer);
                if (p.dir.isOpaque()) {
                    stop = new Cause(Cause.Kind.OPAQUE, path, layer, p.dir.opaque().get(0), null);
                }
            } else {
                status[i] = Status.HIDDEN;
                causes[i] = new Cause(Cause.Kind.SHADOWED, path, layers.get(supplier), null, probes[supplier].object);
                stop = new Cause(Cause.Kind.MERGE_ENDED, path, layer, null, p.object);
            }
        }

        List<Version> versions = new ArrayList<>();
        List<Step.Ignored> ignored = new ArrayList<>();
        boolean[] phys = new boolean[n];
        boolean[] xw = new boolean[n];
        for (int i = 0; i < n; i++) {
            Probe p = probes[i];
            if (p == null) {
                continue;
            }
            if (p.state == Probe.State.ABSENT) {
                for (Marker m : p.ignored) {
                    ignored.add(new Step.Ignored(layers.get(i), m));
                }
                continue;
            }
            phys[i] = p.isDirectory();
            xw[i] = phys[i] && p.dir.xattrWhiteouts();
            versions.add(new Version(layers.get(i), p.object, p.whiteout,
                    p.isDirectory() ? p.dir.opaque() : List.of(), p.ignored, status[i], causes[i]));
        }

        boolean visible = supplier >= 0;
        Cause hiddenBy = null;
        if (!visible) {
            hiddenBy = hiddenBy(parent, path, stop, versions);
        }
        Step step = new Step(path, visible, visible ? layers.get(supplier) : null, merged, versions, stop, hiddenBy,
                ignored);
        return new Level(step, contributes, cut, phys, xw);
    }

    private static Cause hiddenBy(Level parent, String path, Cause stop, List<Version> versions) {
        if (stop != null && stop.at().equals(path)
                && (stop.kind() == Cause.Kind.WHITEOUT || stop.kind() == Cause.Kind.RESERVED_NAME)) {
            return stop;
        }
        for (Version v : versions) {
            if (v.cause() != null) {
                return v.cause();
            }
        }
        Step ps = parent.step;
        if (!ps.visible()) {
            return ps.hiddenBy();
        }
        if (!ps.isDirectory()) {
            return ps.stop();
        }
        return null;
    }
}
