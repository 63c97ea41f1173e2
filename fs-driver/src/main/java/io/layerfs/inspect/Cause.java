package io.layerfs.inspect;

/**
 * Why a layer's version of a path is not what the union shows. {@link #at} is the union path where
 * it happens: the path itself, or an ancestor directory (then everything below that ancestor in the
 * affected layers is hidden with it).
 *
 * @param kind   what happens
 * @param at     union path where it happens
 * @param layer  the layer that does it
 * @param marker the whiteout or opaque marker, for WHITEOUT and OPAQUE; else null
 * @param object the object that shadows, for SHADOWED and MERGE_ENDED; else null
 */
public record Cause(Kind kind, String at, LayerRef layer, Marker marker, ObjectInfo object) {
    public enum Kind {
        /** A whiteout at {@code at} in {@code layer} hides the name in every layer below. */
        WHITEOUT,
        /** The directory {@code at} is opaque in {@code layer}: the layers below do not merge into it. */
        OPAQUE,
        /** {@code layer} supplies {@code at} as a non-directory (or as the directory above a non-directory). */
        SHADOWED,
        /** {@code layer} has a non-directory at {@code at} under a directory above: the merge stops there. */
        MERGE_ENDED,
        /** layerfs never shows a name starting with ".wh.": such names are whiteout markers. */
        RESERVED_NAME
    }

    /** One sentence, without the final period: why a version at {@code path} is hidden. */
    public String describe(String path) {
        boolean here = at.equals(path);
        switch (kind) {
            case WHITEOUT:
                return (here ? "whited out" : "its ancestor " + at + " is whited out") + " in " + layer.name()
                        + " by " + layer.resolve(marker.markerPath()) + " (" + marker.encoding().description() + ")";
            case OPAQUE:
                return (here ? "below the opaque directory " : "inside " + at + ", opaque ") + (here ? at + " " : "")
                        + "in " + layer.name() + " (" + markerText(marker, layer) + ")";
            case SHADOWED:
                if (here) {
                    return "shadowed by the " + object.noun() + " " + at + " in " + layer.name();
                }
                return at + " is a " + object.noun() + (object.linkTarget() != null ? " (-> " + object.linkTarget() + ")" : "")
                        + " in " + layer.name() + ", so nothing below it shows"
                        + (object.linkTarget() != null ? " (a lookup through the mount follows the link)" : "");
            case MERGE_ENDED:
                return "the directory merge of " + at + " stops at " + layer.name() + ", which has a "
                        + object.noun() + " there";
            case RESERVED_NAME:
                return (here ? "" : "its ancestor " + at + " has ")
                        + "a name starting with .wh., which layerfs reserves for whiteouts and never shows";
            default:
                return kind.toString();
        }
    }

    /** "xattr trusted.overlay.opaque=y on /l/a", ".wh..wh..opq file /l/a/.wh..wh..opq". */
    public static String markerText(Marker m, LayerRef layer) {
        boolean xattr = m.encoding().description().startsWith("xattr");
        return m.encoding().description() + (xattr ? " on " : " ") + layer.resolve(m.markerPath());
    }
}
