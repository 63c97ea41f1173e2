package io.layerfs.contract;

import io.layerfs.union.UnionFs;

/** The contract suite against the engine in-process: no kernel, no FUSE. */
class EngineContractTest extends UnionContractTest {
    @Override
    protected UnionView open(Stack s, boolean readOnly) throws Exception {
        return new EngineView(UnionFs.open(readOnly ? s.readOnlyConfig() : s.config()));
    }

    @Override
    protected boolean isMount() {
        return false;
    }
}
