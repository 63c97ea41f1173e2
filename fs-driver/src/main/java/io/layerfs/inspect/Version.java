package io.layerfs.inspect;

import java.util.List;

/**
 * What one layer has at a path, and what becomes of it in the union.
 *
 * @param layer    the layer
 * @param object   the object there, or null for a whiteout
 * @param whiteout the whiteout there, or null for an object
 * @param opaque   opaque markers the reader acts on, for a directory; else empty
 * @param ignored  markers at this name that the reader ignores (with the reason in each note)
 * @param status   what the union does with it
 * @param cause    why it is hidden, for HIDDEN; else null
 */
public record Version(LayerRef layer, ObjectInfo object, Marker whiteout, List<Marker> opaque, List<Marker> ignored,
                      Status status, Cause cause) {
    public enum Status {
        /** The union shows this object (for a directory: its attributes; contents merge). */
        SUPPLIES,
        /** A directory whose entries merge into the directory the union shows. */
        MERGED,
        /** A whiteout that hides the name in the layers below it. */
        HIDES,
        /** Not seen in the union; {@link Version#cause()} says why. */
        HIDDEN
    }

    public Version {
        opaque = List.copyOf(opaque);
        ignored = List.copyOf(ignored);
    }

    public boolean isWhiteout() {
        return whiteout != null;
    }
}
