package io.layerfs.contract;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.layerfs.fuse.FuseMount;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/** Mounts layerfs in this JVM for a test; closing unmounts and closes the engine. */
public final class LayerfsMount {
    private LayerfsMount() {
    }

    public static MountView mount(UnionConfig config, Path mountpoint) throws Exception {
        Files.createDirectories(mountpoint);
        UnionFs fs = UnionFs.open(config);
        FuseMount m;
        try {
            m = FuseMount.mount(fs, mountpoint, List.of(), false);
        } catch (Exception e) {
            fs.close();
            throw e;
        }
        return new MountView(mountpoint, () -> {
            m.close();
            fs.close();
        });
    }
}
