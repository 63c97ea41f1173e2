package io.layerfs.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.union.Markers;
import io.layerfs.union.Markers.Encoding;

/**
 * The markers one layer keeps on one of its directories, sorted into those the reader acts on and
 * those it ignores. As in the engine (Markers.opacity), a directory that is opaque does not also
 * announce xattr whiteouts: {@code opaque=y} wins over {@code opaque=x}.
 *
 * @param opaque          opaque markers the reader acts on (the directory is opaque if any)
 * @param ignored         markers present but ignored by the reader, each with its reason
 * @param redirect        a redirect xattr, or null
 * @param xattrWhiteouts  whether the reader looks for xattr whiteouts among its entries
 */
record DirMarkers(List<Marker> opaque, List<Marker> ignored, Marker redirect, boolean xattrWhiteouts) {

    boolean isOpaque() {
        return !opaque.isEmpty();
    }

    static DirMarkers read(LayerReader layer, String rel, Rules rules) throws IOException {
        String path = LayerReader.unionPath(rel);
        List<Marker> opaque = new ArrayList<>();
        List<Marker> ignored = new ArrayList<>();
        Marker redirect = null;
        boolean x = false;
        boolean upper = layer.ref.upper();
        for (String name : layer.xattrNames(rel)) {
            if (Markers.OPAQUE_XATTRS.contains(name)) {
                byte[] v = layer.xattr(rel, name);
                Encoding e = Markers.classifyOpaqueXattr(name, v);
                if (e != null) {
                    Marker m = new Marker(e, path, rel, true, null);
                    if (rules.reads(e, upper)) {
                        opaque.add(m);
                    } else {
                        ignored.add(m.ignored(rules.whyIgnored(e, upper)));
                    }
                } else if (Markers.announcesXattrWhiteouts(name, v) && rules.announcesWith(name)) {
                    x = true;
                }
                continue;
            }
            Encoding r = Markers.classifyRedirectXattr(name);
            if (r != null) {
                byte[] v = layer.xattr(rel, name);
                String target = v == null ? "?" : new String(v, StandardCharsets.UTF_8);
                redirect = new Marker(r, path, rel, false, "redirect to " + target + ": " + rules.whyIgnored(r, upper));
            }
        }
        String opq = LayerReader.child(rel, ".wh..wh..opq");
        if (layer.stat(opq) != null) {
            Marker m = new Marker(Encoding.OCI_OPAQUE, path, opq, true, null);
            if (rules.reads(Encoding.OCI_OPAQUE, upper)) {
                opaque.add(m);
            } else {
                ignored.add(m.ignored(rules.whyIgnored(Encoding.OCI_OPAQUE, upper) + "; it shows as an ordinary file"));
            }
        }
        return new DirMarkers(List.copyOf(opaque), List.copyOf(ignored), redirect, x && opaque.isEmpty());
    }
}
