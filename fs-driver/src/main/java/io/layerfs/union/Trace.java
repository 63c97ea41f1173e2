package io.layerfs.union;

/**
 * What the union tells about the changes it makes to the layers, for people debugging why a file
 * is hidden or visible (`layerfs mount --trace FILE`). Every method has an empty default, and
 * {@link #OFF} is what the engine uses when nobody listens: the hot path then pays one
 * final-field test for lookups and nothing else.
 */
public interface Trace {
    Trace OFF = new Trace() {
    };

    /** Whether {@link #lookup} wants every lookup (many per second: costs when on). */
    default boolean lookups() {
        return false;
    }

    /**
     * An object was copied up. bytes: data bytes moved (0 for O_TRUNC, directories, links);
     * method: "ficlone", "copy_file_range", "read/write", or "none".
     */
    default void copyUp(String path, String fromLayer, String type, long bytes, String method) {
    }

    /** A whiteout (character device 0/0) now hides path. */
    default void whiteout(String path) {
    }

    /** The upper directory at path was made opaque (trusted.overlay.opaque=y). */
    default void opaque(String path, String why) {
    }

    /** path was looked up; layer is the one that answered, or null when no layer shows it. */
    default void lookup(String path, String layer) {
    }
}
