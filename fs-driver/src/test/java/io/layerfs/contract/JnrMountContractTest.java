package io.layerfs.contract;

import io.layerfs.fuse.FuseMount;

/**
 * The contract suite against a real mount served by the libfuse 2 binding (jnr-fuse), whatever
 * LAYERFS_FUSE_BINDING says (root and /dev/fuse needed: CI has both, so these tests run there).
 */
class JnrMountContractTest extends UnionContractTest {
    @Override
    protected UnionView open(Stack s, boolean readOnly) throws Exception {
        return LayerfsMount.mount(readOnly ? s.readOnlyConfig() : s.config(), s.mountpoint, FuseMount.Binding.JNR_FUSE);
    }

    @Override
    protected boolean isMount() {
        return true;
    }
}
