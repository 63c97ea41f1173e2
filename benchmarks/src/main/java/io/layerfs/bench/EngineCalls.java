package io.layerfs.bench;

import io.layerfs.sys.SysException;
import io.layerfs.union.UnionFs;

/** Engine calls that the binding benchmarks measure as their baseline, shaped as a binding makes them. */
public final class EngineCalls {
    private EngineCalls() {
    }

    /** getattr as a binding answers it: 0, or the negative errno the engine's exception carries. */
    public static int getattrErrno(UnionFs fs, String path) {
        try {
            fs.getattr(path);
            return 0;
        } catch (SysException e) {
            return -e.errno();
        }
    }
}
