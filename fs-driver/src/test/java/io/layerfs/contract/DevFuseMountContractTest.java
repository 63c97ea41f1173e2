package io.layerfs.contract;

import io.layerfs.fuse.FuseMount;

/**
 * The contract suite against a real mount served by the /dev/fuse binding, whatever
 * LAYERFS_FUSE_BINDING says (root and /dev/fuse needed: CI has both, so these tests run there).
 */
class DevFuseMountContractTest extends UnionContractTest {
    @Override
    protected UnionView open(Stack s, boolean readOnly) throws Exception {
        return LayerfsMount.mount(readOnly ? s.readOnlyConfig() : s.config(), s.mountpoint, FuseMount.Binding.DEV_FUSE);
    }

    @Override
    protected boolean isMount() {
        return true;
    }
}
