package io.layerfs.contract;

import io.layerfs.fuse.FuseMount;

/**
 * The contract suite against a real mount served by the libfuse 2 binding (jnr-fuse), whatever
 * LAYERFS_FUSE_BINDING says, so the non-default binding stays covered ({@link MountContractTest}
 * runs the default, the /dev/fuse binding; root and /dev/fuse needed for both).
 */
class JnrFuseMountContractTest extends UnionContractTest {
    @Override
    protected UnionView open(Stack s, boolean readOnly) throws Exception {
        return LayerfsMount.mount(readOnly ? s.readOnlyConfig() : s.config(), s.mountpoint, FuseMount.Binding.JNR_FUSE);
    }

    @Override
    protected boolean isMount() {
        return true;
    }
}
