package io.layerfs.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Chain IDs (OCI image-spec config.md, "Layer ChainID"): the identity of a layer together with
 * everything under it. ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = SHA256(ChainID(L0..Ln-1) + " " +
 * DiffID(Ln)), both written in their {@code sha256:} form. A layer applied over different parents is a
 * different directory in overlay form (its whiteouts mean something else), which is why the store keys
 * layers by chain ID and not by diffID.
 */
final class ChainIds {
    private ChainIds() {
    }

    /** One chain ID per diffID, bottom layer first, as rootfs.diff_ids is ordered. */
    static List<Digest> of(List<Digest> diffIds) {
        List<Digest> out = new ArrayList<>(diffIds.size());
        Digest chain = null;
        for (Digest diff : diffIds) {
            chain = chain == null ? diff : Digest.sha256(chain + " " + diff);
            out.add(chain);
        }
        return out;
    }
}
