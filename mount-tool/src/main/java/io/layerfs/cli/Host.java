package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** What {@link Preflight} and {@link UmountCommand} ask of the machine; tests pass a fake. */
interface Host {
    /** The mounts visible to this process now. */
    MountTable mountTable() throws IOException;

    /** The mount on top at mountPoint (absolute, free of symlinks), if any: {@link MountTable#find}. */
    default Optional<MountTable.Mount> mountAt(Path mountPoint) throws IOException {
        return mountTable().find(mountPoint);
    }

    /** Whether /dev/fuse exists as a device. */
    boolean hasFuseDevice();

    /** Whether libfuse.so.2, which the libfuse 2 binding (LAYERFS_FUSE_BINDING=jnr) loads, is installed. */
    boolean hasLibfuse2();

    /** Whether the mount will use the libfuse 2 binding (LAYERFS_FUSE_BINDING=jnr) rather than /dev/fuse. */
    boolean usesLibfuse2();

    /** The filesystem holding p (its st_dev): equal for two paths exactly when on one filesystem. */
    Object fileSystemOf(Path p) throws IOException;
}
