package io.layerfs.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The generator behind {@link LayerFixture#randomLowers}. It keeps a model of the merged view of the
 * layers built so far, so that upper layers aim their whiteouts, opaque directories, replacements and
 * type changes at names that really exist below. Only kernel marker forms are written (char 0/0
 * whiteouts, trusted.overlay.opaque=y). Iteration is over sorted maps only: same seed, same bytes.
 */
final class RandomLowers {
    /** Few names, reused at every depth and in every layer, so that layers collide often. */
    private static final String[] NAMES = {"a", "b", "c", "d", "x", "y", "z"};
    private static final int MAX_DEPTH = 3;
    private static final int[] FILE_MODES = {0644, 0644, 0600, 0755, 0444, 0640, 0700, 04755};
    private static final int[] DIR_MODES = {0755, 0755, 0700, 0775, 0555, 01777, 02755};
    private static final int[] IDS = {0, 0, 0, 1000, 1234};
    /** Timestamps written are before this (2017-07-14); differential tests compare only such times. */
    static final long OLDEST = 1_000_000_000L;
    static final long NEWEST = 1_500_000_000L;

    private enum Kind { DIR, FILE, LINK, FIFO, WHITEOUT }

    private final LayerFixture fixture;
    private final SplittableRandom random;
    /** What the union of the layers built so far shows, path to kind. */
    private final TreeMap<String, Kind> merged = new TreeMap<>();
    /** What the layer being built holds on disk, including whiteouts and implicit parents. */
    private TreeMap<String, Kind> own;
    private LayerFixture.Layer layer;

    private RandomLowers(LayerFixture fixture, long seed) {
        this.fixture = fixture;
        this.random = new SplittableRandom(seed);
    }

    static void build(LayerFixture fixture, long seed, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("need at least one layer");
        }
        RandomLowers r = new RandomLowers(fixture, seed);
        for (int i = 0; i < count; i++) {
            r.buildLayer("lower" + i, i == 0);
        }
    }

    private void buildLayer(String name, boolean bottom) {
        layer = fixture.layer(name);
        own = new TreeMap<>();
        int entries = bottom ? 14 + random.nextInt(14) : 4 + random.nextInt(10);
        for (int i = 0; i < entries; i++) {
            // a pick can be impossible (no candidate); retry a few times, then move on
            for (int attempt = 0; attempt < 8 && !step(bottom); attempt++) {
                // retry
            }
        }
        // times last: creating entries moves a directory's mtime to now
        for (Map.Entry<String, Kind> e : own.entrySet()) {
            layer.mtime(e.getKey(), OLDEST + random.nextLong(NEWEST - OLDEST), random.nextInt(1_000_000_000));
        }
        layer.mtime(".", OLDEST + random.nextLong(NEWEST - OLDEST), random.nextInt(1_000_000_000));
    }

    private boolean step(boolean bottom) {
        int roll = random.nextInt(100);
        if (bottom) {
            if (roll < 28) {
                return newDir();
            } else if (roll < 70) {
                return newFile();
            } else if (roll < 80) {
                return newSymlink();
            } else if (roll < 88) {
                return newHardlink();
            } else if (roll < 91) {
                return newFifo();
            }
            return addXattr();
        }
        if (roll < 14) {
            return newDir();
        } else if (roll < 36) {
            return newFile();
        } else if (roll < 42) {
            return newSymlink();
        } else if (roll < 46) {
            return newHardlink();
        } else if (roll < 48) {
            return newFifo();
        } else if (roll < 52) {
            return addXattr();
        } else if (roll < 66) {
            return whiteout();
        } else if (roll < 76) {
            return opaque();
        } else if (roll < 90) {
            return replaceFile();
        }
        return changeType();
    }

    // ---- actions -------------------------------------------------------------------------------------

    private boolean newDir() {
        String p = freshPath();
        if (p == null) {
            return false;
        }
        int mode = pick(DIR_MODES);
        layer.dir(p, mode);
        owner(p, Kind.DIR, mode);
        put(p, Kind.DIR);
        return true;
    }

    private boolean newFile() {
        String p = freshPath();
        if (p == null) {
            return false;
        }
        writeFile(p);
        return true;
    }

    private void writeFile(String p) {
        int mode = pick(FILE_MODES);
        layer.file(p, content(), mode);
        owner(p, Kind.FILE, mode);
        put(p, Kind.FILE);
        if (random.nextInt(5) == 0) {
            layer.xattr(p, "user.k" + random.nextInt(3), "v" + random.nextInt(1000));
        }
    }

    private boolean newSymlink() {
        String p = freshPath();
        if (p == null) {
            return false;
        }
        layer.symlink(p, safeTarget());
        if (random.nextInt(3) == 0) {
            layer.chown(p, pick(IDS), pick(IDS));
        }
        put(p, Kind.LINK);
        return true;
    }

    private boolean newHardlink() {
        List<String> files = ownOfKind(Kind.FILE);
        String p = freshPath();
        if (files.isEmpty() || p == null) {
            return false;
        }
        layer.hardlink(p, files.get(random.nextInt(files.size())));
        put(p, Kind.FILE);
        return true;
    }

    private boolean newFifo() {
        String p = freshPath();
        if (p == null) {
            return false;
        }
        layer.fifo(p, random.nextBoolean() ? 0644 : 0600);
        put(p, Kind.FIFO);
        return true;
    }

    private boolean addXattr() {
        List<String> targets = new ArrayList<>(ownOfKind(Kind.FILE));
        targets.addAll(ownOfKind(Kind.DIR));
        if (targets.isEmpty()) {
            return false;
        }
        String p = targets.get(random.nextInt(targets.size()));
        layer.xattr(p, "user.k" + random.nextInt(3), "value-" + random.nextInt(100));
        return true;
    }

    /** A kernel whiteout for a name that the layers below show. */
    private boolean whiteout() {
        String p = mergedNotOwn(null);
        if (p == null || !parentsUsable(p)) {
            return false;
        }
        implicitParents(p);
        layer.whiteout(p);
        own.put(p, Kind.WHITEOUT);
        removeSubtree(p);
        return true;
    }

    /** An opaque directory, over a directory below (hiding its contents) or as a new name. */
    private boolean opaque() {
        String p = random.nextInt(4) == 0 ? freshPath() : mergedNotOwn(Kind.DIR);
        if (p == null || !parentsUsable(p)) {
            return false;
        }
        implicitParents(p);
        removeSubtree(p);
        int mode = pick(DIR_MODES);
        layer.dir(p, mode).xattr(p, LayerFixture.TRUSTED_OPAQUE, "y");
        owner(p, Kind.DIR, mode);
        put(p, Kind.DIR);
        // something of this layer inside, else the opaque directory is merely empty
        if (random.nextBoolean() && depth(p) < MAX_DEPTH) {
            writeFile(p + "/" + pick(NAMES));
        }
        return true;
    }

    /** A new version of a file that the layers below show. */
    private boolean replaceFile() {
        String p = mergedNotOwn(Kind.FILE);
        if (p == null || !parentsUsable(p)) {
            return false;
        }
        implicitParents(p);
        writeFile(p);
        return true;
    }

    /** A file over a directory below, or a directory over a non-directory below. */
    private boolean changeType() {
        String p = mergedNotOwn(null);
        if (p == null || !parentsUsable(p)) {
            return false;
        }
        implicitParents(p);
        if (merged.get(p) == Kind.DIR) {
            removeSubtree(p);
            writeFile(p);
        } else {
            removeSubtree(p);
            int mode = pick(DIR_MODES);
            layer.dir(p, mode);
            owner(p, Kind.DIR, mode);
            put(p, Kind.DIR);
        }
        return true;
    }

    // ---- model ---------------------------------------------------------------------------------------

    /** A path that the current layer does not hold yet, below a directory of the merged view or of this layer. */
    private String freshPath() {
        List<String> parents = new ArrayList<>();
        parents.add("");
        for (Map.Entry<String, Kind> e : merged.entrySet()) {
            if (e.getValue() == Kind.DIR && depth(e.getKey()) < MAX_DEPTH) {
                parents.add(e.getKey());
            }
        }
        String parent = parents.get(random.nextInt(parents.size()));
        String p = parent.isEmpty() ? pick(NAMES) : parent + "/" + pick(NAMES);
        if (own.containsKey(p) || !parentsUsable(p)) {
            return null;
        }
        return p;
    }

    /** A name shown by the layers below (of the given kind, or any) that this layer does not hold. */
    private String mergedNotOwn(Kind kind) {
        List<String> candidates = new ArrayList<>();
        for (Map.Entry<String, Kind> e : merged.entrySet()) {
            if (!own.containsKey(e.getKey()) && (kind == null || e.getValue() == kind)) {
                candidates.add(e.getKey());
            }
        }
        return candidates.isEmpty() ? null : candidates.get(random.nextInt(candidates.size()));
    }

    /** Every ancestor is absent from this layer or a directory in it. */
    private boolean parentsUsable(String p) {
        for (String a : ancestors(p)) {
            Kind k = own.get(a);
            if (k != null && k != Kind.DIR) {
                return false;
            }
        }
        return true;
    }

    /** Records the directories LayerFixture creates for p's parents (mode 0755, owned by root). */
    private void implicitParents(String p) {
        for (String a : ancestors(p)) {
            if (!own.containsKey(a)) {
                own.put(a, Kind.DIR);
                if (merged.get(a) != Kind.DIR) {
                    removeSubtree(a);
                    merged.put(a, Kind.DIR);
                }
            }
        }
    }

    /** p now holds kind in this layer: a non-directory hides everything below; a directory merges with one. */
    private void put(String p, Kind kind) {
        implicitParents(p);
        Kind before = merged.get(p);
        if (kind != Kind.DIR || (before != null && before != Kind.DIR)) {
            removeSubtree(p);
        }
        own.put(p, kind);
        merged.put(p, kind);
    }

    /** Removes p and everything below it from the merged view. */
    private void removeSubtree(String p) {
        merged.remove(p);
        merged.subMap(p + "/", p + "0").clear(); // '0' follows '/' in ASCII
    }

    private List<String> ownOfKind(Kind kind) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Kind> e : own.entrySet()) {
            if (e.getValue() == kind) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** Sometimes gives p another owner; files get their mode again, as chown clears setuid/setgid. */
    private void owner(String p, Kind kind, int mode) {
        if (random.nextInt(3) == 0) {
            layer.chown(p, pick(IDS), pick(IDS));
            if (kind == Kind.FILE) {
                layer.chmod(p, mode);
            }
        }
    }

    // ---- values ----------------------------------------------------------------------------------------

    /** A symlink target without ".." and not absolute: wherever the link sits, it resolves inside the tree. */
    private String safeTarget() {
        int n = 1 + random.nextInt(2);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append('/');
            }
            b.append(random.nextInt(6) == 0 ? "missing" : pick(NAMES));
        }
        return b.toString();
    }

    private byte[] content() {
        int roll = random.nextInt(10);
        int size = roll < 1 ? 0 : roll < 6 ? random.nextInt(100) : roll < 9 ? 100 + random.nextInt(5000)
                : 5000 + random.nextInt(70_000);
        byte[] b = new byte[size];
        if (random.nextBoolean()) {
            random.nextBytes(b);
        } else {
            byte[] text = ("line " + random.nextInt(1000) + " of a text file\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < size; i++) {
                b[i] = text[i % text.length];
            }
        }
        return b;
    }

    private int pick(int[] values) {
        return values[random.nextInt(values.length)];
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }

    private static int depth(String p) {
        int d = 1;
        for (int i = 0; i < p.length(); i++) {
            if (p.charAt(i) == '/') {
                d++;
            }
        }
        return d;
    }

    private static List<String> ancestors(String p) {
        List<String> out = new ArrayList<>();
        int slash = p.indexOf('/');
        while (slash >= 0) {
            out.add(p.substring(0, slash));
            slash = p.indexOf('/', slash + 1);
        }
        return out;
    }
}
