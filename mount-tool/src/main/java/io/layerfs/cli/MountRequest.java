package io.layerfs.cli;

import java.nio.file.Path;
import java.util.List;

/**
 * One mount to make, whichever command-line form named it. Built by {@link MountCommand} with
 * absolute paths; {@link Preflight#check} returns a copy with every symlink resolved.
 *
 * @param lowers      read-only layers, highest first
 * @param upper       writable layer, or null for a read-only union
 * @param work        workdir on the upper's filesystem, null exactly when upper is
 * @param mountpoint  where the union appears
 * @param fuseOptions extra options for libfuse
 * @param tuning      how the engine works: durability of copy-up, tracing
 */
record MountRequest(List<Path> lowers, Path upper, Path work, Path mountpoint, List<String> fuseOptions,
                    Tuning tuning) {
    MountRequest {
        lowers = List.copyOf(lowers);
        fuseOptions = List.copyOf(fuseOptions);
    }

    MountRequest(List<Path> lowers, Path upper, Path work, Path mountpoint, List<String> fuseOptions) {
        this(lowers, upper, work, mountpoint, fuseOptions, Tuning.DEFAULT);
    }

    /**
     * @param isVolatile   copy-up without fsync (-o volatile or fsync=0, as fuse-overlayfs)
     * @param trace        file for one JSON line per change to the layers, or null
     * @param traceLookups also one line per lookup, naming the layer that answered
     */
    record Tuning(boolean isVolatile, Path trace, boolean traceLookups) {
        static final Tuning DEFAULT = new Tuning(false, null, false);
    }
}
