package io.layerfs.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.union.Markers;
import io.layerfs.union.Markers.Encoding;

/**
 * What one layer holds at one name of a directory, under a reader's rules: nothing, a whiteout, or
 * an object (with the markers of a directory). Mirrors the engine's per-layer step (Resolver.scan):
 * a {@code .wh.NAME} counts only where NAME itself is absent, because a whiteout hides the name in
 * the layers below its own, not beside it.
 */
final class Probe {
    private static final int NAME_MAX = 255;

    enum State { ABSENT, WHITEOUT, OBJECT }

    final State state;
    /** The whiteout, for WHITEOUT. */
    final Marker whiteout;
    /** The object, for OBJECT. */
    final ObjectInfo object;
    /** Markers of the directory, for OBJECT directories; else null. */
    final DirMarkers dir;
    /** Markers present at this name that the reader ignores, each with why. */
    final List<Marker> ignored;

    private Probe(State state, Marker whiteout, ObjectInfo object, DirMarkers dir, List<Marker> ignored) {
        this.state = state;
        this.whiteout = whiteout;
        this.object = object;
        this.dir = dir;
        this.ignored = List.copyOf(ignored);
    }

    boolean isDirectory() {
        return state == State.OBJECT && object.isDirectory();
    }

    /**
     * @param parentXattrWhiteouts whether the parent directory, in this layer, announces xattr
     *                             whiteouts under the rules ({@link DirMarkers#xattrWhiteouts()})
     */
    static Probe of(LayerReader layer, Rules rules, String parentRel, String name, boolean parentXattrWhiteouts)
            throws IOException {
        String rel = LayerReader.child(parentRel, name);
        String path = LayerReader.unionPath(rel);
        boolean upper = layer.ref.upper();
        List<Marker> ignored = new ArrayList<>();
        Stat st = layer.stat(rel);
        String whRel = ociWhiteoutFits(name) ? LayerReader.child(parentRel, Markers.ociWhiteoutName(name)) : null;
        if (st == null) {
            if (whRel != null && layer.stat(whRel) != null) {
                Marker m = new Marker(Encoding.OCI_WHITEOUT, path, whRel, true, null);
                if (rules.reads(Encoding.OCI_WHITEOUT, upper)) {
                    return new Probe(State.WHITEOUT, m, null, null, ignored);
                }
                ignored.add(m.ignored(rules.whyIgnored(Encoding.OCI_WHITEOUT, upper)
                        + "; it shows as an ordinary file of its own name"));
            }
            return new Probe(State.ABSENT, null, null, null, ignored);
        }
        if (st.isWhiteoutDevice()) {
            return new Probe(State.WHITEOUT, new Marker(Encoding.CHAR_DEVICE, path, rel, true, null), null, null,
                    ignored);
        }
        List<String> xattrs = layer.xattrNames(rel);
        Encoding xw = Markers.classifyWhiteoutXattrs(xattrs);
        if (xw != null) {
            Marker m = new Marker(xw, path, rel, true, null);
            if (!st.isRegular() || st.size != 0) {
                ignored.add(m.ignored("not an empty regular file, so not a whiteout"));
            } else if (!rules.reads(xw, upper)) {
                ignored.add(m.ignored(rules.whyIgnored(xw, upper)));
            } else if (!parentXattrWhiteouts) {
                ignored.add(m.ignored("its directory is not marked overlay.opaque=x, so it shows as an empty file"));
            } else {
                return new Probe(State.WHITEOUT, m, null, null, ignored);
            }
        }
        if (whRel != null && layer.stat(whRel) != null) {
            ignored.add(new Marker(Encoding.OCI_WHITEOUT, path, whRel, false,
                    name + " exists in the same layer, and a whiteout hides a name only in the layers below its own"));
        }
        ObjectInfo info = layer.info(rel, st);
        DirMarkers dm = null;
        if (st.isDirectory()) {
            dm = DirMarkers.read(layer, rel, rules);
            ignored.addAll(dm.ignored());
            if (dm.redirect() != null) {
                ignored.add(dm.redirect());
            }
        } else {
            for (String x : xattrs) {
                if (Markers.OPAQUE_XATTRS.contains(x)) {
                    Encoding e = Markers.classifyOpaqueXattr(x, layer.xattr(rel, x));
                    if (e != null) {
                        ignored.add(new Marker(e, path, rel, false, "on a " + info.noun() + ", not a directory"));
                    }
                }
            }
        }
        return new Probe(State.OBJECT, null, info, dm, ignored);
    }

    /** Whether ".wh." + name still fits in NAME_MAX bytes (else it cannot have an OCI whiteout). */
    static boolean ociWhiteoutFits(String name) {
        return name.length() * 3 + 4 <= NAME_MAX || name.getBytes(StandardCharsets.UTF_8).length + 4 <= NAME_MAX;
    }
}
