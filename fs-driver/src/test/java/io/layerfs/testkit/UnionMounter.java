package io.layerfs.testkit;

import java.nio.file.Path;
import java.util.List;

/**
 * Something that composes layers into a writable union at a mount point: kernel overlayfs
 * ({@link KernelOverlay#mounter}), layerfs over FUSE ({@link LayerfsMounter}), or a deliberately
 * broken wrapper in the harness's own tests. The differential test is written against this alone.
 */
@FunctionalInterface
public interface UnionMounter {
    /**
     * Mounts lowers (highest first) with upper and work at mnt, all existing directories, and returns
     * once the mount is usable. Closing the result unmounts and releases everything the mount holds;
     * after close returns, nothing is mounted at mnt.
     */
    AutoCloseable mount(List<Path> lowers, Path upper, Path work, Path mnt) throws Exception;
}
