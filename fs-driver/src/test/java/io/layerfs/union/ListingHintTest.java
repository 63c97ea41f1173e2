package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.SysException;

/**
 * {@link Entry#listedWithoutWhiteouts}: once a directory was listed, lookups below it skip the
 * {@code .wh.} probe in the lower layers whose directory held no {@code .wh.} name, and only there.
 * Lower layers never change under a mount; the tests change them behind the engine's back only to
 * show which probes were skipped.
 * <pre>
 *   upper/   d/
 *   lower 0/ d/other
 *   lower 1/ d/x, d/y
 * </pre>
 */
class ListingHintTest {
    @TempDir
    Path tmp;

    private Stack stack() throws Exception {
        Stack s = new Stack(tmp, 2);
        s.dir(s.upper, "d").file(s.lower(0), "d/other", "o").file(s.lower(1), "d/x", "x").file(s.lower(1), "d/y", "y");
        return s;
    }

    @Test
    void lookupAfterListing_skipsWhiteoutProbeOfCleanLowerDirectory() throws Exception {
        Stack s = stack();
        try (UnionFs fs = UnionFs.open(s.config())) {
            assertEquals(3, fs.list("/d").size());
            Files.createFile(s.lower(0).resolve("d/.wh.x")); // not seen: the listing said "none here"
            assertEquals(1, fs.getattr("/d/x").size, "still shown");
        }
    }

    @Test
    void lookupWithoutListing_probesForWhiteouts() throws Exception {
        Stack s = stack();
        try (UnionFs fs = UnionFs.open(s.config())) {
            Files.createFile(s.lower(0).resolve("d/.wh.x"));
            assertThrows(SysException.class, () -> fs.getattr("/d/x"));
        }
    }

    @Test
    void upperDirectory_isNeverTakenAsClean() throws Exception {
        Stack s = stack();
        try (UnionFs fs = UnionFs.open(s.config())) {
            assertEquals(3, fs.list("/d").size());
            Files.createFile(s.upper.resolve("d/.wh.y"));
            assertThrows(SysException.class, () -> fs.getattr("/d/y"), "the upper's whiteout is looked for");
        }
    }
}
