package io.layerfs.inspect;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.layerfs.inspect.Finding.Check;
import io.layerfs.sys.Stat;
import io.layerfs.union.Markers;
import io.layerfs.union.Markers.Encoding;

/**
 * Problems of a stack of layers that bite users, each a {@link Finding} of one {@link Check}. Each
 * layer is walked once; questions about the layers below one (does a whiteout hide anything, is a
 * file the same as the one it shadows) are asked of {@link LayerStack#below}, under the stack's rules.
 * The lowest layer has nothing below it in the stack, so those two checks skip it; with a single
 * layer they cannot run at all.
 *
 * <p>Layer tars ({@link LayerStack#ofTars}) are checked as what they are, OCI changesets: there
 * {@code .wh..wh..opq} is the opaque marker of the format rather than a problem, any other marker
 * encoding is one, and the encodings are not judged as a mix; an opaque marker under a name the tar
 * also has as a non-directory is found from the tar's entries.
 *
 * <pre>
 *   List&lt;Finding&gt; findings = Lint.check(LayerStack.of(lowers, upper, Rules.LAYERFS));
 *   findings.addAll(Lint.checkWorkdir(work));
 * </pre>
 */
public final class Lint {
    /** What one overlay implementation writes; a layer whose encodings fit none of these is mixed. */
    private static final Map<String, Set<Encoding>> WRITERS = writers();

    private final LayerStack stack;
    private final List<Finding> findings = new ArrayList<>();

    private Lint(LayerStack stack) {
        this.stack = stack;
    }

    private static Map<String, Set<Encoding>> writers() {
        Map<String, Set<Encoding>> m = new TreeMap<>();
        m.put("kernel overlayfs", EnumSet.of(Encoding.CHAR_DEVICE, Encoding.TRUSTED_XATTR_WHITEOUT,
                Encoding.TRUSTED_OPAQUE, Encoding.TRUSTED_REDIRECT));
        m.put("kernel overlayfs with userxattr", EnumSet.of(Encoding.CHAR_DEVICE, Encoding.USER_XATTR_WHITEOUT,
                Encoding.USER_OPAQUE, Encoding.USER_REDIRECT));
        m.put("fuse-overlayfs without privileges", EnumSet.of(Encoding.CHAR_DEVICE, Encoding.OCI_WHITEOUT,
                Encoding.FUSE_OVERLAY_OPAQUE));
        m.put("an OCI layer tar", EnumSet.of(Encoding.OCI_WHITEOUT, Encoding.OCI_OPAQUE));
        return m;
    }

    /** Every finding of every layer of the stack, layer by layer from the top, in path order within a layer. */
    public static List<Finding> check(LayerStack stack) throws IOException {
        Lint lint = new Lint(stack);
        for (LayerRef layer : stack.layers()) {
            lint.layer(layer);
        }
        return lint.findings;
    }

    /** Leftovers in a workdir that no mount is using: WORKDIR/work/* and WORKDIR/incompat/volatile. */
    public static List<Finding> checkWorkdir(Path workdir) throws IOException {
        Path w = workdir.toAbsolutePath().normalize();
        if (!Files.isDirectory(w, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NotDirectoryException(w.toString());
        }
        LayerRef ref = new LayerRef(0, "workdir", w, false);
        List<Finding> out = new ArrayList<>();
        LayerDir dir = new LayerDir(ref);
        Stat work = dir.stat("work");
        if (work != null && work.isDirectory()) {
            for (String name : dir.list("work")) {
                long bytes = treeBytes(dir, "work/" + name);
                out.add(new Finding(Check.WORKDIR_LEFTOVERS, ref, "work/" + name, "work/" + name,
                        "leftover " + name + " in " + w.resolve("work") + " (" + bytes + " bytes)", bytes));
            }
        }
        if (dir.stat("incompat/volatile") != null) {
            out.add(new Finding(Check.WORKDIR_LEFTOVERS, ref, "incompat/volatile", "incompat/volatile",
                    "a volatile kernel overlay mount of this workdir was not unmounted cleanly, so its upper may "
                            + "be incomplete; kernel overlayfs will not mount it again until incompat/volatile "
                            + "is removed", 0));
        }
        return out;
    }

    private static long treeBytes(LayerReader dir, String rel) throws IOException {
        Stat st = dir.stat(rel);
        if (st == null) {
            return 0;
        }
        long sum = st.isRegular() ? st.size : 0;
        if (st.isDirectory()) {
            for (String n : dir.list(rel)) {
                sum += treeBytes(dir, rel + "/" + n);
            }
        }
        return sum;
    }

    // ---- one layer ------------------------------------------------------------------------------------

    private void layer(LayerRef ref) throws IOException {
        LayerReader layer = stack.reader(ref);
        LayerStack below = stack.below(ref);
        Map<Encoding, Integer> used = new EnumMap<>(Encoding.class);
        DirMarkers root = DirMarkers.read(layer, ".", Rules.LAYERFS);
        for (Marker m : root.opaque()) {
            count(used, m.encoding());
            if (m.encoding() == Encoding.OCI_OPAQUE) {
                ociOpaque(layer, m);
            }
        }
        walk(layer, below, ".", null, root.xattrWhiteouts(), used);
        if (layer instanceof TarLayer tar) {
            notOci(ref, used);
            underNonDirectories(tar);
        } else {
            mixed(ref, used);
        }
    }

    /** In a tar, every marker that is not a .wh. entry (OCI image spec, layer.md "Whiteouts"). */
    private void notOci(LayerRef ref, Map<Encoding, Integer> used) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<Encoding, Integer> e : used.entrySet()) {
            if (e.getKey() != Encoding.OCI_WHITEOUT && e.getKey() != Encoding.OCI_OPAQUE) {
                parts.add(e.getKey().id() + " x" + e.getValue());
            }
        }
        if (!parts.isEmpty()) {
            findings.add(new Finding(Check.NOT_OCI_MARKER_IN_TAR, ref, "/", ".",
                    "the tar carries overlay markers that are not .wh. entries: " + String.join(", ", parts), 0));
        }
    }

    private void underNonDirectories(TarLayer tar) {
        for (String rel : tar.entriesUnderNonDirectories()) {
            if (Markers.isOciOpaqueName(LayerReader.name(rel))) {
                String dir = LayerReader.parent(rel);
                findings.add(new Finding(Check.OPAQUE_ON_NON_DIRECTORY, tar.ref, LayerReader.unionPath(dir), rel,
                        rel + " marks " + LayerReader.unionPath(dir) + " opaque, but the tar also has "
                                + dir + " as a non-directory", 0));
            }
        }
    }

    private static void count(Map<Encoding, Integer> used, Encoding e) {
        used.merge(e, 1, Integer::sum);
    }

    /**
     * @param opaqueAbove the nearest directory of this layer, at or above dir, that is opaque (its
     *                    marker), or null
     */
    private void walk(LayerReader layer, LayerStack below, String dir, Marker opaqueAbove, boolean xattrWhiteouts,
                      Map<Encoding, Integer> used) throws IOException {
        LayerRef ref = layer.ref;
        List<String> names = layer.list(dir);
        Set<String> present = new HashSet<>(names);
        for (String name : names) {
            if (Markers.isOciOpaqueName(name)) {
                continue; // counted with the directory (DirMarkers)
            }
            String target = Markers.ociWhiteoutTarget(name);
            if (name.startsWith(".wh.") && (target == null || target.startsWith(".wh."))) {
                reservedName(ref, LayerReader.child(dir, name));
                continue;
            }
            if (target != null && present.contains(target)) {
                continue; // found by the probe of target
            }
            String probeName = target != null ? target : name;
            String rel = LayerReader.child(dir, probeName);
            String path = LayerReader.unionPath(rel);
            // Markers are judged by what layerfs reads: a kernel-only reader's view is what the
            // encoding checks (mixed, oci-opaque-file) warn about.
            Probe p = Probe.of(layer, Rules.LAYERFS, dir, probeName, xattrWhiteouts);
            if (p.state == Probe.State.WHITEOUT) {
                count(used, p.whiteout.encoding());
                whiteout(ref, below, p.whiteout, opaqueAbove);
                continue;
            }
            if (p.state == Probe.State.ABSENT) {
                continue;
            }
            for (Marker m : p.ignored) {
                ignoredMarker(ref, m, p.isDirectory());
            }
            if (p.isDirectory()) {
                Marker opaque = opaqueAbove;
                for (Marker m : p.dir.opaque()) {
                    count(used, m.encoding());
                    if (m.encoding() == Encoding.OCI_OPAQUE) {
                        ociOpaque(layer, m);
                    }
                    if (opaque == null) {
                        opaque = m;
                    }
                }
                if (p.dir.redirect() != null) {
                    count(used, p.dir.redirect().encoding());
                }
                walk(layer, below, rel, opaque, p.dir.xattrWhiteouts(), used);
            } else if (p.object.isFile() && below != null) {
                identical(layer, below, rel, path, p.object);
            }
        }
    }

    private void whiteout(LayerRef ref, LayerStack below, Marker m, Marker opaqueAbove) throws IOException {
        String what = "the whiteout " + m.markerPath() + " (" + m.encoding().description() + ")";
        if (ref.upper() && (m.encoding() == Encoding.TRUSTED_XATTR_WHITEOUT
                || m.encoding() == Encoding.USER_XATTR_WHITEOUT)) {
            findings.add(new Finding(Check.IGNORED_XATTR_WHITEOUT, ref, m.path(), m.markerPath(),
                    what + " is in the upper layer, where kernel overlayfs does not read xattr whiteouts", 0));
        }
        if (opaqueAbove != null) {
            findings.add(new Finding(Check.WHITEOUT_IN_OPAQUE_DIR, ref, m.path(), m.markerPath(),
                    what + " is inside " + opaqueAbove.path() + ", which is opaque in this layer ("
                            + opaqueAbove.encoding().description() + ")", 0));
            return;
        }
        if (below != null && !below.lookup(m.path()).visible()) {
            findings.add(new Finding(Check.WHITEOUT_HIDES_NOTHING, ref, m.path(), m.markerPath(),
                    what + " hides " + m.path() + ", which no layer below shows", 0));
        }
    }

    private void reservedName(LayerRef ref, String rel) {
        String name = LayerReader.name(rel);
        findings.add(new Finding(Check.RESERVED_WH_NAME, ref, LayerReader.unionPath(rel), rel,
                name.equals(".wh.") ? "a bare .wh. entry, which whites out no name"
                        : name + " is not a whiteout of a name but aufs metadata (.wh..wh.*)", 0));
    }

    /** Not for a tar: there .wh..wh..opq is the one opaque marker the format has. */
    private void ociOpaque(LayerReader layer, Marker m) {
        if (layer instanceof TarLayer) {
            return;
        }
        LayerRef ref = layer.ref;
        findings.add(new Finding(Check.OCI_OPAQUE_FILE, ref, m.path(), m.markerPath(),
                m.markerPath() + " makes " + m.path() + " opaque for layerfs and fuse-overlayfs only", 0));
    }

    private void ignoredMarker(LayerRef ref, Marker m, boolean onDirectory) {
        switch (m.encoding().kind()) {
            case WHITEOUT:
                if (m.encoding() == Encoding.OCI_WHITEOUT) {
                    findings.add(new Finding(Check.WHITEOUT_BESIDE_NAME, ref, m.path(), m.markerPath(),
                            m.markerPath() + " whites out " + m.path() + ", which this layer also has", 0));
                } else {
                    findings.add(new Finding(Check.IGNORED_XATTR_WHITEOUT, ref, m.path(), m.markerPath(),
                            m.markerPath() + " carries " + m.encoding().id() + " but is ignored: " + m.note(), 0));
                }
                break;
            case OPAQUE:
                if (!onDirectory) {
                    findings.add(new Finding(Check.OPAQUE_ON_NON_DIRECTORY, ref, m.path(), m.markerPath(),
                            m.encoding().description() + " " + m.note(), 0));
                }
                break;
            default:
                break;
        }
    }

    private void mixed(LayerRef ref, Map<Encoding, Integer> used) {
        if (used.isEmpty()) {
            return;
        }
        for (Set<Encoding> writer : WRITERS.values()) {
            if (writer.containsAll(used.keySet())) {
                return;
            }
        }
        List<String> parts = new ArrayList<>();
        for (Map.Entry<Encoding, Integer> e : used.entrySet()) {
            parts.add(e.getKey().id() + " x" + e.getValue());
        }
        List<String> ignoredByKernel = new ArrayList<>();
        List<String> ignoredByUser = new ArrayList<>();
        for (Encoding e : used.keySet()) {
            if (!Rules.KERNEL.reads(e, ref.upper())) {
                ignoredByKernel.add(e.id());
            }
            if (!Rules.KERNEL_USERXATTR.reads(e, ref.upper())) {
                ignoredByUser.add(e.id());
            }
        }
        findings.add(new Finding(Check.MIXED_ENCODINGS, ref, "/", ".",
                "uses " + String.join(", ", parts) + "; kernel overlayfs would ignore "
                        + String.join(", ", ignoredByKernel) + ", and with userxattr "
                        + String.join(", ", ignoredByUser), 0));
    }

    private void identical(LayerReader layer, LayerStack below, String rel, String path, ObjectInfo mine)
            throws IOException {
        Step s = below.lookup(path);
        if (!s.visible() || !s.shown().object().isFile()) {
            return;
        }
        ObjectInfo theirs = s.shown().object();
        boolean sameObject = mine.ino() != 0 && mine.dev() == theirs.dev() && mine.ino() == theirs.ino();
        if (mine.size() == 0 || mine.size() != theirs.size() || sameObject
                || mine.mode() != theirs.mode() || mine.uid() != theirs.uid() || mine.gid() != theirs.gid()) {
            return;
        }
        LayerReader other = below.reader(s.supplier());
        if (!publicXattrs(layer, rel).equals(publicXattrs(other, rel))) {
            return;
        }
        if (!sameContent(layer, other, rel)) {
            return;
        }
        findings.add(new Finding(Check.IDENTICAL_COPY, layer.ref, path, rel,
                path + " is identical to the file it shadows in " + s.supplier().name() + " (" + mine.size()
                        + " bytes" + (mine.mtimeSec() != theirs.mtimeSec() ? "; only the mtime differs" : "") + ")",
                mine.size()));
    }

    private static Map<String, String> publicXattrs(LayerReader l, String rel) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String n : l.xattrNames(rel)) {
            if (!Markers.isPrivateXattr(n) && !n.equals("security.selinux")) {
                byte[] v = l.xattr(rel, n);
                out.put(n, v == null ? "" : java.util.HexFormat.of().formatHex(v));
            }
        }
        return out;
    }

    /** Byte by byte for directories; by the digests taken while reading for tars. */
    private static boolean sameContent(LayerReader mine, LayerReader theirs, String rel) throws IOException {
        if (mine instanceof TarLayer a && theirs instanceof TarLayer b) {
            byte[] x = a.sha256(rel);
            return x != null && Arrays.equals(x, b.sha256(rel));
        }
        if (mine instanceof LayerDir && theirs instanceof LayerDir) {
            return sameContent(mine.ref.resolve(rel), theirs.ref.resolve(rel));
        }
        return false;
    }

    private static boolean sameContent(Path a, Path b) throws IOException {
        try (InputStream x = Files.newInputStream(a, LinkOption.NOFOLLOW_LINKS);
             InputStream y = Files.newInputStream(b, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bx = new byte[64 * 1024];
            byte[] by = new byte[64 * 1024];
            while (true) {
                int nx = x.readNBytes(bx, 0, bx.length);
                int ny = y.readNBytes(by, 0, by.length);
                if (nx != ny || !Arrays.equals(bx, 0, nx, by, 0, ny)) {
                    return false;
                }
                if (nx == 0) {
                    return true;
                }
            }
        }
    }
}
