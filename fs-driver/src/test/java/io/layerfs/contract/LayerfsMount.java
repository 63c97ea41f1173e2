package io.layerfs.contract;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.layerfs.fuse.FuseMount;

import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;
import io.layerfs.union.UnionConfig;

/** Mounts layerfs in this JVM for a test, as a {@link MountView}; closing unmounts. */
public final class LayerfsMount {
    private LayerfsMount() {
    }

    public static MountView mount(UnionConfig config, Path mountpoint) throws Exception {
        return mount(config, mountpoint, new LayerfsMounter());
    }

    /** With an explicit FUSE binding, whatever LAYERFS_FUSE_BINDING says. */
    public static MountView mount(UnionConfig config, Path mountpoint, FuseMount.Binding binding) throws Exception {
        return mount(config, mountpoint, new LayerfsMounter(List.of(), binding));
    }

    /** With an explicit FUSE binding and extra "-o" options. */
    public static MountView mount(UnionConfig config, Path mountpoint, FuseMount.Binding binding, List<String> options)
            throws Exception {
        return mount(config, mountpoint, new LayerfsMounter(options, binding));
    }

    private static MountView mount(UnionConfig config, Path mountpoint, LayerfsMounter mounter) throws Exception {
        MountTests.requireFuse();
        Files.createDirectories(mountpoint);
        AutoCloseable m = mounter.mount(config.lowers(), config.upper(), config.work(), mountpoint);
        return new MountView(mountpoint, m);
    }
}
