package io.layerfs.inspect;

/**
 * One problem {@link Lint} found.
 *
 * @param check      which check found it
 * @param layer      the layer it is in (for workdir leftovers: a pseudo layer named "workdir")
 * @param path       the union path concerned ("/a/b"), or the path inside the workdir
 * @param markerPath what to look at, relative to the layer root (the marker, or the file)
 * @param message    what is wrong here, one sentence
 * @param bytes      bytes it wastes (identical copies, workdir leftovers), else 0
 */
public record Finding(Check check, LayerRef layer, String path, String markerPath, String message, long bytes) {
    /** The checks, each with the short explanation printed beside its findings. */
    public enum Check {
        WHITEOUT_HIDES_NOTHING("whiteout-hides-nothing",
                "No layer below has this name, so the whiteout hides nothing. It is left over from a file "
                        + "that was created and deleted above the same base, or the layers below changed."),
        WHITEOUT_IN_OPAQUE_DIR("whiteout-in-opaque-dir",
                "An opaque directory already hides everything below it, so a whiteout inside it hides nothing."),
        MIXED_ENCODINGS("mixed-encodings",
                "The layer mixes marker encodings that no single overlay implementation writes. A reader that "
                        + "knows only some of them (kernel overlayfs knows no .wh. files and no "
                        + "user.fuseoverlayfs.*; it reads either trusted.* or user.* xattrs) shows hidden files "
                        + "again. 'layerfs convert' rewrites a layer into one encoding."),
        OCI_OPAQUE_FILE("oci-opaque-file",
                "Kernel overlayfs does not know the OCI opaque marker: mounted there, the directory merges "
                        + "with the layers below and .wh..wh..opq shows as an ordinary file."),
        WHITEOUT_BESIDE_NAME("whiteout-beside-name",
                "A whiteout hides a name only in the layers below its own. layerfs and fuse-overlayfs show "
                        + "the name from this layer and ignore the whiteout; for a directory the lower "
                        + "directory's entries show through, where an image tool applying this layer would "
                        + "have replaced the directory. Mark the directory opaque instead."),
        OPAQUE_ON_NON_DIRECTORY("opaque-on-non-directory",
                "Only a directory can be opaque; every reader ignores the marker on anything else."),
        IGNORED_XATTR_WHITEOUT("ignored-xattr-whiteout",
                "An xattr whiteout counts only as an empty regular file in a directory marked "
                        + "overlay.opaque=x, and kernel overlayfs reads it only in lower layers; otherwise "
                        + "it shows as an empty file."),
        WORKDIR_LEFTOVERS("workdir-leftovers",
                "Objects of copy-ups or whiteouts that were in progress when a mount ended: they take space "
                        + "until the next mount of this workdir removes them. incompat/volatile makes "
                        + "kernel overlayfs refuse the next mount until it is deleted."),
        RESERVED_WH_NAME("reserved-wh-name",
                "Names starting with .wh. are reserved for whiteouts (OCI image spec, layer.md). A bare .wh. "
                        + "whites out nothing, and .wh..wh.* entries other than the opaque marker are aufs "
                        + "metadata (.wh..wh.plnk, .wh..wh.aufs): image tools refuse such a layer or drop the "
                        + "entry (layerfs image import refuses it); in a layer directory layerfs hides the name "
                        + "and kernel overlayfs shows it as an ordinary file."),
        NOT_OCI_MARKER_IN_TAR("not-oci-marker-in-tar",
                "A layer tar's only markers are .wh.NAME and .wh..wh..opq entries (OCI image spec, layer.md). "
                        + "A 0/0 device or an overlay xattr in a tar hides something only where the tar is "
                        + "unpacked as it is into an overlay layer directory; applied as the spec says it is an "
                        + "ordinary device or xattr, and the file shows again (layerfs image import refuses "
                        + "0/0 devices)."),
        IDENTICAL_COPY("identical-copy",
                "The file has the same content, mode, owner and xattrs as the lower file it shadows: a "
                        + "copy-up that changed nothing (often a file opened for writing and not written), "
                        + "or a layer that re-adds an unchanged file.");

        private final String id;
        private final String explanation;

        Check(String id, String explanation) {
            this.id = id;
            this.explanation = explanation;
        }

        public String id() {
            return id;
        }

        public String explanation() {
            return explanation;
        }
    }
}
