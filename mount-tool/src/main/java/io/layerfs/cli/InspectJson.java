package io.layerfs.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.layerfs.inspect.Cause;
import io.layerfs.inspect.LayerRef;
import io.layerfs.inspect.Marker;
import io.layerfs.inspect.ObjectInfo;

/**
 * The JSON form of the io.layerfs.inspect values that several commands print: ordered maps and lists,
 * which {@link ImageCommand#printJson} writes (null values are left out).
 */
final class InspectJson {
    private InspectJson() {
    }

    /** An ordered map to fill. */
    static Map<String, Object> object() {
        return new LinkedHashMap<>();
    }

    static Map<String, Object> layer(LayerRef l) {
        Map<String, Object> m = InspectJson.object();
        m.put("name", l.name());
        m.put("path", l.root().toString());
        m.put("upper", l.upper());
        return m;
    }

    static List<Object> layers(List<LayerRef> layers) {
        List<Object> out = new ArrayList<>();
        for (LayerRef l : layers) {
            out.add(layer(l));
        }
        return out;
    }

    static List<Object> names(List<LayerRef> layers) {
        List<Object> out = new ArrayList<>();
        for (LayerRef l : layers) {
            out.add(l.name());
        }
        return out;
    }

    /** @param layer where the marker is, to give its host path; null if unknown */
    static Map<String, Object> marker(Marker mk, LayerRef layer) {
        Map<String, Object> m = InspectJson.object();
        m.put("kind", mk.kind().name().toLowerCase());
        m.put("encoding", mk.encoding().id());
        m.put("description", mk.encoding().description());
        m.put("path", mk.path());
        m.put("marker", mk.markerPath());
        if (layer != null) {
            m.put("hostPath", layer.resolve(mk.markerPath()).toString());
        }
        m.put("effective", mk.effective());
        m.put("note", mk.note());
        return m;
    }

    static List<Object> markers(List<Marker> markers, LayerRef layer) {
        List<Object> out = new ArrayList<>();
        for (Marker mk : markers) {
            out.add(marker(mk, layer));
        }
        return out;
    }

    static Map<String, Object> object(ObjectInfo o) {
        if (o == null) {
            return null;
        }
        Map<String, Object> m = InspectJson.object();
        m.put("type", o.type());
        m.put("mode", String.format("%04o", o.mode()));
        m.put("uid", o.uid());
        m.put("gid", o.gid());
        m.put("size", o.size());
        m.put("nlink", o.nlink());
        m.put("ino", o.ino());
        m.put("mtime", o.mtime().toString());
        if (o.linkTarget() != null) {
            m.put("target", o.linkTarget());
        }
        if (o.rdevMajor() >= 0) {
            m.put("rdev", o.rdevMajor() + "," + o.rdevMinor());
        }
        return m;
    }

    /** @param path the path the cause is about, for its sentence */
    static Map<String, Object> cause(Cause c, String path) {
        if (c == null) {
            return null;
        }
        Map<String, Object> m = InspectJson.object();
        m.put("kind", c.kind().name().toLowerCase());
        m.put("at", c.at());
        m.put("layer", c.layer() == null ? null : c.layer().name());
        if (c.marker() != null) {
            m.put("marker", marker(c.marker(), c.layer()));
        }
        if (c.object() != null) {
            m.put("object", object(c.object()));
        }
        m.put("text", c.describe(path));
        return m;
    }
}
