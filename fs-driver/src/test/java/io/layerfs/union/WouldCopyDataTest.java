package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;

/**
 * {@link UnionFs#wouldCopyData}: true only where a change would copy a lower file's data up.
 * <pre>
 *   upper/   up "u"
 *   lower 0/ low "l", dir/
 * </pre>
 */
class WouldCopyDataTest {
    @TempDir
    Path tmp;

    @Test
    void wouldCopyData_lowerFileUntilCopiedUp_upperFileDirMissingNever() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "low", "l").dir(s.lower(0), "dir").file(s.upper, "up", "u");
        try (UnionFs fs = UnionFs.open(s.config())) {
            assertEquals(true, fs.wouldCopyData("/low"));
            assertEquals(false, fs.wouldCopyData("/up"));
            assertEquals(false, fs.wouldCopyData("/dir"));
            assertEquals(false, fs.wouldCopyData("/missing"));
            assertEquals(false, fs.wouldCopyData("/missing/deeper"));
            fs.chmod("/low", 0600); // copies it up
            assertEquals(false, fs.wouldCopyData("/low"));
        }
        try (UnionFs fs = UnionFs.open(s.readOnlyConfig())) {
            assertEquals(false, fs.wouldCopyData("/low"), "nothing is copied in a read-only union");
        }
    }
}
