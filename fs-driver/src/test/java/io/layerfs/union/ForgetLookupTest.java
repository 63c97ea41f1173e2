package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.LayerFixture;

/**
 * {@link UnionFs#forgetLookup}: a name added to a higher layer behind the engine's back stays
 * answered by the cached lower layer until its lookup is forgotten.
 * <pre>
 *   top/     (x added after the first lookup: "top!")
 *   base/    x "b"
 * </pre>
 */
class ForgetLookupTest {
    @TempDir
    Path tmp;

    @Test
    void forgetLookup_afterHigherLayerChanged_nextLookupWalksTheLayersAgain() throws Exception {
        LayerFixture fx = LayerFixture.in(tmp);
        LayerFixture.Layer top = fx.layer("base").file("x", "b").layer("top");
        List<Path> lowers = fx.layers();
        try (UnionFs fs = UnionFs.open(new UnionConfig(lowers, null, null))) {
            assertEquals(1, fs.getattr("/x").size);
            top.file("x", "top!");
            assertEquals(1, fs.getattr("/x").size, "the cached lookup still names base");
            fs.forgetLookup("/x");
            assertEquals(4, fs.getattr("/x").size);
        }
    }
}
