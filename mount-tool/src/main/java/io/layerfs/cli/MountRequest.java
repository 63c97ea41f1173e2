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
 */
record MountRequest(List<Path> lowers, Path upper, Path work, Path mountpoint, List<String> fuseOptions) {
    MountRequest {
        lowers = List.copyOf(lowers);
        fuseOptions = List.copyOf(fuseOptions);
    }
}
