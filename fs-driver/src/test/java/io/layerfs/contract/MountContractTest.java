package io.layerfs.contract;

/**
 * The contract suite against a real FUSE mount of layerfs with the binding LAYERFS_FUSE_BINDING
 * selects, the /dev/fuse one by default ({@link JnrFuseMountContractTest} runs the libfuse 2 one).
 * Root and /dev/fuse needed: CI has both, so these tests run there and are never skipped.
 */
class MountContractTest extends UnionContractTest {
    @Override
    protected UnionView open(Stack s, boolean readOnly) throws Exception {
        return LayerfsMount.mount(readOnly ? s.readOnlyConfig() : s.config(), s.mountpoint);
    }

    @Override
    protected boolean isMount() {
        return true;
    }
}
