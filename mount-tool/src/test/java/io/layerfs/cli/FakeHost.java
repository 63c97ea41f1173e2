package io.layerfs.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A machine with FUSE set up and nothing mounted, unless a test says otherwise. */
final class FakeHost implements Host {
    String mountinfo = "";
    boolean fuseDevice = true;
    boolean libfuse2 = true;
    /** LAYERFS_FUSE_BINDING=jnr: the mount would load libfuse 2. */
    boolean libfuse2Binding = false;
    /** Paths (as given to fileSystemOf) on another filesystem than the rest. */
    final Map<Path, Object> fileSystems = new HashMap<>();

    /** Lists a mount of the given type at mountPoint, as /proc/self/mountinfo would. */
    FakeHost mounted(Path mountPoint, String fsType) {
        mountinfo += "99 26 0:99 / " + mountPoint + " rw,relatime - " + fsType + " src rw\n";
        return this;
    }

    @Override
    public MountTable mountTable() {
        return MountTable.parse(mountinfo);
    }

    @Override
    public boolean hasFuseDevice() {
        return fuseDevice;
    }

    @Override
    public boolean hasLibfuse2() {
        return libfuse2;
    }

    @Override
    public boolean usesLibfuse2Binding() {
        return libfuse2Binding;
    }

    @Override
    public Object fileSystemOf(Path p) {
        return fileSystems.getOrDefault(p, "the-one-filesystem");
    }
}
