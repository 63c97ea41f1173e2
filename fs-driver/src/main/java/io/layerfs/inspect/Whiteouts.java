package io.layerfs.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.layerfs.union.Markers;

/**
 * Every whiteout, opaque and redirect marker of one layer, a directory or a tar file, in path order.
 * Markers that layerfs would ignore are listed too, with {@link Marker#effective()} false and the
 * reason in {@link Marker#note()}: an OCI whiteout beside the name it whites out, an xattr whiteout
 * in a directory without {@code overlay.opaque=x}, an opaque xattr on a non-directory or on the
 * layer's root, a redirect.
 *
 * <pre>
 *   for (Marker m : Whiteouts.of(Path.of("/c/upper"))) {
 *       System.out.println(m.kind() + " " + m.path() + " " + m.encoding().id());
 *   }
 * </pre>
 */
public final class Whiteouts {
    private Whiteouts() {
    }

    /** The markers of a layer directory, or of a tar file (plain, gzip, bzip2 or zstd). */
    public static List<Marker> of(Path source) throws IOException {
        return of(reader(source));
    }

    /** Whether source is read as a tar file (it is a regular file, not a directory). */
    public static boolean isTar(Path source) {
        return Files.isRegularFile(source) && !Files.isDirectory(source);
    }

    static LayerReader reader(Path source) throws IOException {
        Path abs = source.toAbsolutePath().normalize();
        LayerRef ref = new LayerRef(0, "layer", abs, false);
        if (Files.isDirectory(abs)) {
            return new LayerDir(new LayerRef(0, "layer", abs.toRealPath(), false));
        }
        if (Files.isRegularFile(abs)) {
            return TarLayer.read(ref);
        }
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(abs.toString());
        }
        throw new IOException(abs + " is neither a directory nor a tar file");
    }

    static List<Marker> of(LayerReader layer) throws IOException {
        List<Marker> out = new ArrayList<>();
        DirMarkers root = DirMarkers.read(layer, ".", Rules.LAYERFS);
        for (Marker m : root.opaque()) {
            out.add(m.ignored("a layer's root directory is never opaque"));
        }
        out.addAll(root.ignored());
        if (root.redirect() != null) {
            out.add(root.redirect());
        }
        walk(layer, ".", root.xattrWhiteouts(), out);
        out.sort(java.util.Comparator.comparing(Marker::path));
        return out;
    }

    private static void walk(LayerReader layer, String dir, boolean xattrWhiteouts, List<Marker> out)
            throws IOException {
        List<String> names = layer.list(dir);
        Set<String> present = new HashSet<>(names);
        for (String name : names) {
            if (Markers.isOciOpaqueName(name)) {
                continue; // reported with its directory, by DirMarkers
            }
            String target = Markers.ociWhiteoutTarget(name);
            if (target != null && present.contains(target)) {
                continue; // reported, as ignored, by the probe of target
            }
            if (name.startsWith(".wh.") && target == null) {
                continue; // ".wh." alone: a reserved name that hides nothing
            }
            String probeName = target != null ? target : name;
            Probe p = Probe.of(layer, Rules.LAYERFS, dir, probeName, xattrWhiteouts);
            if (p.state == Probe.State.WHITEOUT) {
                out.add(p.whiteout);
                continue;
            }
            if (p.state == Probe.State.ABSENT) {
                continue;
            }
            if (p.isDirectory()) {
                out.addAll(p.dir.opaque());
            }
            out.addAll(p.ignored);
            if (p.isDirectory()) {
                walk(layer, LayerReader.child(dir, probeName), p.dir.xattrWhiteouts(), out);
            }
        }
    }
}
