package io.layerfs.inspect;

import java.nio.file.Path;
import java.util.List;

import io.layerfs.testkit.LayerFixture;

/**
 * A stack with one case for every marker encoding, shared by the inspect tests:
 *
 * <pre>
 *   lower 3 (base)        lower 2 (mid)                        lower 1 (top)        upper
 *   a/kern a/oci          a/kern   char 0/0                                          new
 *   x/trusted             x/trusted trusted.overlay.whiteout                         m/base char 0/0
 *                          (x: trusted.overlay.opaque=x)
 *   u/user                u/user   user.overlay.whiteout
 *                          (u: user.overlay.opaque=x)
 *   o1/old ... o4/old     o1/ trusted.overlay.opaque=y, new
 *                         o2/ user.overlay.opaque=y
 *                         o3/ user.fuseoverlayfs.opaque=y
 *                         o4/ .wh..wh..opq
 *   f/inner                                                    f     (a file)
 *   m/base m/shared       m/shared "mid"                       m/top
 *   same/keep                                                  same/mine, .wh.same
 *   a/.wh.oci is in mid (OCI whiteout of a/oci)
 * </pre>
 */
final class EncodingStack {
    final Path upper;
    final List<Path> lowers;
    final Path work;

    private EncodingStack(Path upper, List<Path> lowers, Path work) {
        this.upper = upper;
        this.lowers = lowers;
        this.work = work;
    }

    static EncodingStack in(Path dir) throws Exception {
        LayerFixture fx = LayerFixture.in(dir);
        List<Path> lowers = fx
                .layer("base").file("a/kern", "k").file("a/oci", "o").file("x/trusted", "t").file("u/user", "u")
                .file("o1/old", "1").file("o2/old", "2").file("o3/old", "3").file("o4/old", "4")
                .file("f/inner", "i").file("m/base", "b").file("m/shared", "base").file("same/keep", "k")
                .layer("mid").whiteout("a/kern").whiteoutOci("a/oci").whiteoutXattr("x/trusted")
                .whiteoutUserXattr("u/user").opaque("o1").file("o1/new", "n").opaqueUser("o2")
                .opaqueFuseOverlay("o3").opaqueOci("o4").file("m/shared", "mid")
                .layer("top").file("f", "a file").file("m/top", "t").file("same/mine", "m").whiteoutOci("same")
                .layers();
        Path upper = LayerFixture.in(dir).layer("upper").file("new", "n").whiteout("m/base").path();
        Path work = java.nio.file.Files.createDirectories(dir.resolve("work"));
        return new EncodingStack(upper, lowers, work);
    }

    LayerStack stack(Rules rules) throws Exception {
        return LayerStack.of(lowers, upper, rules);
    }
}
