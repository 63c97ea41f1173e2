package io.layerfs.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.layerfs.sys.Stat;

/**
 * What a container changed against its image, as {@code docker diff} reports it: A (added), C (changed)
 * and D (deleted) per path. It walks the upper directory only; for each object there it asks the
 * lowers, top first, whether the path existed (a few lstats per path, not a walk of the image).
 *
 * <ul>
 *   <li>a whiteout (0/0 device or {@code .wh.NAME}) is D for the name it hides;</li>
 *   <li>an object whose path existed below is C, else A; everything under an added directory is A;</li>
 *   <li>an opaque directory over a lower directory is C, and each name the lowers showed in it that the
 *       upper does not hold again is D (the names under those are implied, as docker lists them).</li>
 * </ul>
 */
public final class Changes {
    /** One change. path is absolute inside the container ({@code /etc/passwd}). */
    public record Change(char kind, String path) {
    }

    private enum Probe { DIR, OTHER, ABSENT, HIDDEN }

    private final Path upper;
    private final List<Path> lowersTopFirst;
    private final List<Change> out = new ArrayList<>();

    private Changes(Path upper, List<Path> lowersTopFirst) {
        this.upper = upper;
        this.lowersTopFirst = lowersTopFirst;
    }

    /** The changes in upper over lowers (highest first), sorted by path. */
    public static List<Change> of(Path upper, List<Path> lowersTopFirst) throws IOException {
        Changes c = new Changes(upper, lowersTopFirst);
        c.walk("");
        c.out.sort((a, b) -> UpperTree.compareBytes(a.path(), b.path()));
        return c.out;
    }

    private void walk(String rel) throws IOException {
        Path dir = rel.isEmpty() ? upper : upper.resolve(rel);
        List<String> names = UpperTree.names(dir);
        for (String name : names) {
            if (name.equals(UpperTree.OPAQUE_FILE)) {
                continue;
            }
            if (name.startsWith(UpperTree.WH_PREFIX)) {
                out.add(new Change('D', "/" + join(rel, name.substring(UpperTree.WH_PREFIX.length()))));
                continue;
            }
            String path = join(rel, name);
            Stat st = UpperTree.lstat(dir.resolve(name));
            if (UpperTree.isWhiteout(st)) {
                out.add(new Change('D', "/" + path));
                continue;
            }
            Probe below = lookup(path);
            boolean existed = below == Probe.DIR || below == Probe.OTHER;
            out.add(new Change(existed ? 'C' : 'A', "/" + path));
            if (UpperTree.isDir(st)) {
                if (below != Probe.DIR) {
                    allAdded(path);
                } else {
                    if (UpperTree.isOpaque(dir.resolve(name))) {
                        deletedByOpaque(path);
                    }
                    walk(path);
                }
            }
        }
    }

    /** Under an opaque upper directory: the names the lowers showed there that the upper lacks are D. */
    private void deletedByOpaque(String path) throws IOException {
        Set<String> upperNames = new HashSet<>();
        for (String n : UpperTree.names(upper.resolve(path))) {
            upperNames.add(n.startsWith(UpperTree.WH_PREFIX) ? n.substring(UpperTree.WH_PREFIX.length()) : n);
        }
        for (String n : mergedLowerNames(path)) {
            if (!upperNames.contains(n)) {
                out.add(new Change('D', "/" + join(path, n)));
            }
        }
    }

    private void allAdded(String rel) throws IOException {
        for (String name : UpperTree.names(upper.resolve(rel))) {
            if (name.startsWith(UpperTree.WH_PREFIX)) {
                continue;
            }
            String path = join(rel, name);
            out.add(new Change('A', "/" + path));
            if (UpperTree.isDir(UpperTree.lstat(upper.resolve(path)))) {
                allAdded(path);
            }
        }
    }

    /** What the lowers show at path: the first layer (top down) that has it or hides it decides. */
    private Probe lookup(String path) throws IOException {
        for (Path layer : lowersTopFirst) {
            Probe p = probe(layer, path);
            if (p == Probe.HIDDEN) {
                return Probe.ABSENT;
            }
            if (p != Probe.ABSENT) {
                return p;
            }
        }
        return Probe.ABSENT;
    }

    /** The names the merged lowers show in directory path. */
    private Set<String> mergedLowerNames(String path) throws IOException {
        Set<String> shown = new TreeSet<>();
        Set<String> hidden = new HashSet<>();
        for (Path layer : lowersTopFirst) {
            Probe p = probe(layer, path);
            if (p == Probe.HIDDEN || p == Probe.OTHER) {
                break;
            }
            if (p == Probe.ABSENT) {
                continue;
            }
            Path dir = layer.resolve(path);
            for (String n : UpperTree.names(dir)) {
                if (UpperTree.isWhiteout(UpperTree.lstat(dir.resolve(n)))) {
                    hidden.add(n);
                } else if (!hidden.contains(n)) {
                    shown.add(n);
                }
            }
            if (UpperTree.isOpaque(dir)) {
                break;
            }
        }
        return shown;
    }

    /** path in one layer: present (DIR/OTHER), ABSENT (look further down) or HIDDEN (by a whiteout,
     * a non-directory ancestor or an opaque ancestor in this layer). */
    private static Probe probe(Path layer, String path) throws IOException {
        String[] parts = path.split("/");
        Path cur = layer;
        boolean opaqueAbove = false;
        for (int i = 0; i < parts.length - 1; i++) {
            cur = cur.resolve(parts[i]);
            Stat st = UpperTree.lstat(cur);
            if (st == null) {
                return opaqueAbove ? Probe.HIDDEN : Probe.ABSENT;
            }
            if (!UpperTree.isDir(st)) {
                return Probe.HIDDEN;
            }
            opaqueAbove |= UpperTree.isOpaque(cur);
        }
        Stat st = UpperTree.lstat(cur.resolve(parts[parts.length - 1]));
        if (st == null) {
            return opaqueAbove ? Probe.HIDDEN : Probe.ABSENT;
        }
        if (UpperTree.isWhiteout(st)) {
            return Probe.HIDDEN;
        }
        return UpperTree.isDir(st) ? Probe.DIR : Probe.OTHER;
    }

    private static String join(String rel, String name) {
        return rel.isEmpty() ? name : rel + "/" + name;
    }
}
