package io.layerfs.inspect;

import java.nio.file.Path;

/**
 * One layer of a {@link LayerStack}, named as overlayfs options name it: "upper", or "lower N" where
 * lower 1 is the highest lower (leftmost in {@code lowerdir=}).
 *
 * @param index position in the stack, 0 = the top layer (the upper if there is one)
 * @param name  "upper" or "lower N"
 * @param root  the layer directory
 * @param upper whether this is the writable layer
 */
public record LayerRef(int index, String name, Path root, boolean upper) {
    /** The host path of rel ("." for the root) inside this layer. */
    public Path resolve(String rel) {
        return ".".equals(rel) ? root : root.resolve(rel);
    }

    @Override
    public String toString() {
        return name + " (" + root + ")";
    }
}
