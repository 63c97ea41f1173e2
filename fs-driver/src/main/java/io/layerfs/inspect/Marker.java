package io.layerfs.inspect;

import io.layerfs.union.Markers;

/**
 * One whiteout, opaque or redirect marker found in a layer.
 *
 * @param encoding   how it is written on disk
 * @param path       the union path it acts on: the name a whiteout hides, the directory made opaque
 *                   or redirected ("/a/b")
 * @param markerPath where the marker is, relative to the layer root: "a/.wh.b", "a/b" for a device
 *                   or an xattr on b, "a/.wh..wh..opq"
 * @param effective  whether the reader's rules act on it (false: present but ignored, see note)
 * @param note       why it is ignored, or what it points at (a redirect's target); null if nothing
 */
public record Marker(Markers.Encoding encoding, String path, String markerPath, boolean effective, String note) {
    public Markers.Kind kind() {
        return encoding.kind();
    }

    Marker ignored(String why) {
        return new Marker(encoding, path, markerPath, false, why);
    }
}
