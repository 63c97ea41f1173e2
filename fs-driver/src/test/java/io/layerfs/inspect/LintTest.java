package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.LayerFixture;

/**
 * {@link Lint}: one fixture with one case of every check, and a clean one.
 * <pre>
 *   lower 1 (base)                 upper
 *   d/old  same/f  dup "12 bytes!"  nothing   (char 0/0: no layer below has it)
 *   o/x                            d/ (trusted opaque=y) old (char 0/0 inside the opaque dir)
 *                                  o/.wh..wh..opq
 *                                  same/g  .wh.same
 *                                  notdir  (trusted.overlay.opaque=y on a file)
 *                                  loose   (empty, trusted.overlay.whiteout, directory not opaque=x)
 *                                  dup "12 bytes!" (same as base)
 *   work/work/#leftover "12345"    work/incompat/volatile
 * </pre>
 */
class LintTest {
    @TempDir
    Path tmp;

    private static List<String> lines(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        for (Finding f : findings) {
            out.add(f.check().id() + " " + f.layer().name() + " " + f.path() + (f.bytes() > 0 ? " " + f.bytes() : ""));
        }
        return out;
    }

    @Test
    void check_everyProblem_isFoundOnce() throws Exception {
        List<Path> lowers = LayerFixture.in(tmp).layer("base")
                .file("d/old", "o").file("same/f", "f").file("dup", "12 bytes!!!\n").file("o/x", "x")
                .layers();
        Path upper = LayerFixture.in(tmp).layer("upper")
                .whiteout("nothing").opaque("d").whiteout("d/old").opaqueOci("o")
                .file("same/g", "g").whiteoutOci("same")
                .file("notdir", "x").xattr("notdir", "trusted.overlay.opaque", "y")
                .file("loose", "").xattr("loose", "trusted.overlay.whiteout", "")
                .file("dup", "12 bytes!!!\n")
                .path();
        List<Finding> findings = Lint.check(LayerStack.of(lowers, upper, Rules.LAYERFS));
        assertEquals(List.of(
                "whiteout-in-opaque-dir upper /d/old",
                "identical-copy upper /dup 12",
                "ignored-xattr-whiteout upper /loose",
                "opaque-on-non-directory upper /notdir",
                "whiteout-hides-nothing upper /nothing",
                "oci-opaque-file upper /o",
                "whiteout-beside-name upper /same",
                "mixed-encodings upper /"), lines(findings));
        assertTrue(findings.get(7).message().contains("char-device x2"), findings.get(7).message());
        assertTrue(findings.get(7).message().contains("oci-opaque x1"), findings.get(7).message());
    }

    @Test
    void check_cleanKernelStack_findsNothing() throws Exception {
        List<Path> lowers = LayerFixture.in(tmp).layer("base").file("a/x", "x").file("b/y", "y").file("c", "1")
                .layer("top").whiteout("a/x").opaque("b").file("b/z", "z").file("c", "2")
                .layers();
        assertEquals(List.of(), Lint.check(LayerStack.of(lowers, null, Rules.LAYERFS)));
    }

    @Test
    void check_singleLayer_skipsWhatNeedsTheLayersBelow() throws Exception {
        Path only = LayerFixture.in(tmp).layer("upper").whiteout("gone").path();
        assertEquals(List.of(), Lint.check(LayerStack.of(List.of(), only, Rules.LAYERFS)));
    }

    @Test
    void checkWorkdir_leftoversAndVolatile_areFound() throws Exception {
        Path work = tmp.resolve("work");
        Files.createDirectories(work.resolve("work"));
        Files.writeString(work.resolve("work/#leftover"), "12345");
        Files.createDirectories(work.resolve("incompat/volatile"));
        assertEquals(List.of("workdir-leftovers workdir work/#leftover 5", "workdir-leftovers workdir incompat/volatile"),
                lines(Lint.checkWorkdir(work)));
    }

    @Test
    void checkWorkdir_emptyWorkdir_isClean() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("w/work"));
        assertEquals(List.of(), Lint.checkWorkdir(work.getParent()));
    }
}
