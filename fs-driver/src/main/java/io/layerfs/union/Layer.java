package io.layerfs.union;

import java.nio.file.Path;

/**
 * One directory of the stack, held open so every lookup is relative to its descriptor (no
 * re-resolution of the host path, and paths near PATH_MAX inside the mount keep working).
 * Lowers are never written; the upper, if any, is index 0 of the union's layer array.
 */
final class Layer {
    final int index;
    final Path root;
    final int fd;
    final boolean upper;
    /** Small per-filesystem number, used to keep inode numbers from different filesystems apart. */
    final int devIndex;
    /** st_dev of the layer's root: the device of (nearly) every object in it. */
    final long dev;
    /** Position in lowerdir= (0 is the highest lower); -1 for the upper. */
    final int lowerPosition;

    Layer(int index, Path root, int fd, boolean upper, int devIndex, long dev, int firstLowerIndex) {
        this.index = index;
        this.root = root;
        this.fd = fd;
        this.upper = upper;
        this.devIndex = devIndex;
        this.dev = dev;
        this.lowerPosition = upper || index < 0 ? -1 : index - firstLowerIndex;
        io.layerfs.sys.Sys.get().nameDirectory(fd, root.toAbsolutePath().toString());
    }

    /**
     * "upper PATH", or "lower N PATH" with N the position in lowerdir= counted from 1 (the leftmost,
     * highest), as {@code layerfs explain} numbers them.
     */
    @Override
    public String toString() {
        return upper ? "upper " + root : index < 0 ? "workdir " + root : "lower " + (lowerPosition + 1) + " " + root;
    }

}
