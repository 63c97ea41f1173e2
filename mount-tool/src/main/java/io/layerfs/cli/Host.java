package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.Path;

/** What {@link Preflight} and {@link UmountCommand} ask of the machine; tests pass a fake. */
interface Host {
    /** The mounts visible to this process now. */
    MountTable mountTable() throws IOException;

    /** Whether /dev/fuse exists as a device. */
    boolean hasFuseDevice();

    /** Whether libfuse.so.2, which the libfuse 2 binding loads, is installed. */
    boolean hasLibfuse2();

    /** Whether the FUSE binding the mount will use is libfuse 2's (LAYERFS_FUSE_BINDING=jnr). */
    boolean usesLibfuse2Binding();

    /** The filesystem holding p (its st_dev): equal for two paths exactly when on one filesystem. */
    Object fileSystemOf(Path p) throws IOException;
}
