package io.layerfs.union;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What to compose: read-only lowers (index 0 is the highest, as the leftmost entry of overlayfs'
 * {@code lowerdir=}), an optional writable upper and its workdir. Without an upper the union is
 * read-only and every modification fails with EROFS.
 */
public final class UnionConfig {
    private final List<Path> lowers;
    private final Path upper;
    private final Path work;
    private final boolean isVolatile;

    public UnionConfig(List<Path> lowers, Path upper, Path work) {
        this(lowers, upper, work, false);
    }

    /**
     * @param isVolatile skip the fsync of copied-up files (overlayfs' {@code volatile}): faster, and
     *                   after a host crash the upper may hold incomplete copies
     */
    public UnionConfig(List<Path> lowers, Path upper, Path work, boolean isVolatile) {
        this.lowers = List.copyOf(Objects.requireNonNull(lowers, "lowers"));
        if ((upper == null) != (work == null)) {
            throw new IllegalArgumentException("upperdir and workdir must be given together");
        }
        if (lowers.isEmpty() && upper == null) {
            throw new IllegalArgumentException("no lowerdir and no upperdir: nothing to mount");
        }
        this.upper = upper;
        this.work = work;
        this.isVolatile = isVolatile;
    }

    public boolean isVolatile() {
        return isVolatile;
    }

    public List<Path> lowers() {
        return lowers;
    }

    /** The writable layer, or null for a read-only union. */
    public Path upper() {
        return upper;
    }

    public Path work() {
        return work;
    }

    public boolean readOnly() {
        return upper == null;
    }
}
