package io.layerfs.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import io.layerfs.fuse.FuseMount;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * layerfs as a {@link UnionMounter}: the union engine opened in this JVM and served over FUSE at the
 * mount point. Closing unmounts (FuseMount.close waits for the FUSE loop to end), then closes the
 * engine, which releases the workdir lock.
 */
public final class LayerfsMounter implements UnionMounter {
    private final List<String> fuseOptions;
    /** null: the binding LAYERFS_FUSE_BINDING selects. */
    private final FuseMount.Binding binding;

    public LayerfsMounter() {
        this(List.of());
    }

    /** extra "-o" options handed to libfuse. */
    public LayerfsMounter(List<String> fuseOptions) {
        this(fuseOptions, null);
    }

    /** With an explicit FUSE binding, whatever LAYERFS_FUSE_BINDING says. */
    public LayerfsMounter(List<String> fuseOptions, FuseMount.Binding binding) {
        this.fuseOptions = List.copyOf(fuseOptions);
        this.binding = binding;
    }

    @Override
    public AutoCloseable mount(List<Path> lowers, Path upper, Path work, Path mnt) throws IOException {
        UnionFs fs = UnionFs.open(new UnionConfig(lowers, upper, work));
        FuseMount fuse;
        try {
            fuse = binding == null ? FuseMount.mount(fs, mnt, fuseOptions, false)
                    : FuseMount.mount(fs, mnt, fuseOptions, false, binding);
        } catch (IOException | RuntimeException | Error e) {
            fs.close();
            throw e;
        }
        return () -> {
            try {
                fuse.close();
            } finally {
                fs.close();
            }
        };
    }

    @Override
    public String toString() {
        return binding == FuseMount.Binding.JNR_FUSE ? "layerfs (libfuse 2, in-process)" : "layerfs (FUSE, in-process)";
    }
}
