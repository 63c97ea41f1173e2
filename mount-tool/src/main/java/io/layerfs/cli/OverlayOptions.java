package io.layerfs.cli;

import java.nio.file.Path;
import java.util.List;

/**
 * What fuse-overlayfs style {@code -o} options ask for. Layer paths are absolute (resolved against
 * the caller's working directory, as podman relies on) but symlinks are not yet resolved:
 * {@link Preflight} does that. Fields are empty or null when the option was not given.
 *
 * @param lowers      lowerdir entries, highest first (leftmost in {@code lowerdir=})
 * @param upper       upperdir, or null
 * @param work        workdir, or null
 * @param fuseOptions options passed on to libfuse unchanged (escaped as libfuse expects)
 * @param warnings    options that were ignored, each as one line of text for stderr
 * @param isVolatile  {@code volatile} or {@code fsync=0}: copy-up need not be synced
 */
record OverlayOptions(List<Path> lowers, Path upper, Path work, List<String> fuseOptions, List<String> warnings,
                      boolean isVolatile) {
    OverlayOptions {
        lowers = List.copyOf(lowers);
        fuseOptions = List.copyOf(fuseOptions);
        warnings = List.copyOf(warnings);
    }

    /** True if any of lowerdir, upperdir, workdir was given. */
    boolean namesLayers() {
        return !lowers.isEmpty() || upper != null || work != null;
    }
}
