package io.layerfs.contract;

import java.nio.file.Files;
import java.nio.file.Path;

import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;
import io.layerfs.union.UnionConfig;

/** Mounts layerfs in this JVM for a test, as a {@link MountView}; closing unmounts. */
public final class LayerfsMount {
    private LayerfsMount() {
    }

    public static MountView mount(UnionConfig config, Path mountpoint) throws Exception {
        MountTests.requireFuse();
        Files.createDirectories(mountpoint);
        AutoCloseable m = new LayerfsMounter().mount(config.lowers(), config.upper(), config.work(), mountpoint);
        return new MountView(mountpoint, m);
    }
}
