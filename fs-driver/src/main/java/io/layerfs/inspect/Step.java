package io.layerfs.inspect;

import java.util.List;

/**
 * The lookup of one path component through every layer.
 *
 * @param path     union path of this step ("/a/b")
 * @param visible  whether the union shows the path
 * @param supplier the layer whose object the union shows, or null
 * @param merged   for a directory, every layer whose directory merges into it, top first (supplier first)
 * @param versions every layer that has something at the path (object or whiteout), top first
 * @param stop     what ends the search through the layers here (a whiteout, an opaque directory, a
 *                 non-directory), or null if the search ran to the bottom layer
 * @param hiddenBy for a path that is not visible: why, or null if no layer has it at all
 * @param ignored  markers the reader ignores at this path in layers that have no object there
 *                 (e.g. a .wh. file the kernel does not read)
 */
public record Step(String path, boolean visible, LayerRef supplier, List<LayerRef> merged, List<Version> versions,
                   Cause stop, Cause hiddenBy, List<Ignored> ignored) {
    /** A marker in a layer that the reader ignores. */
    public record Ignored(LayerRef layer, Marker marker) {
    }

    public Step {
        merged = List.copyOf(merged);
        versions = List.copyOf(versions);
        ignored = List.copyOf(ignored);
    }

    /** The version the union shows, or null. */
    public Version shown() {
        for (Version v : versions) {
            if (v.status() == Version.Status.SUPPLIES) {
                return v;
            }
        }
        return null;
    }

    public boolean isDirectory() {
        Version v = shown();
        return v != null && v.object().isDirectory();
    }
}
