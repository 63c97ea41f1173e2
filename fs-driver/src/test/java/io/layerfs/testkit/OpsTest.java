package io.layerfs.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/*
 * Application tests run on a plain directory (no union needed: Ops only makes system calls):
 *
 *   r/
 *     f        "0123456789", 0644
 *     d/ g     "g"
 *     e/       empty
 */
class OpsTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private Path root() {
        return LayerFixture.in(tmp).layer("r").file("f", "0123456789").file("d/g", "g").dir("e").path();
    }

    private static Stat lstat(Path root, String rel) throws Exception {
        return SYS.lstat(Sys.AT_FDCWD, root + "/" + rel);
    }

    // ---- generation

    @Test
    void generate_isAPureFunctionOfSeedAndNames() {
        Ops.Names names = Ops.Names.of(List.of("f", "d/g"), List.of("d", "e"));
        List<Op> one = Ops.generate(7, 200, names);
        List<Op> two = Ops.generate(7, 200, names);
        assertEquals(one, two);
        assertEquals(Ops.describe(one), Ops.describe(two));
        assertNotEquals(one, Ops.generate(8, 200, names));
    }

    @Test
    void generate_coversEveryKind_withSafePaths() {
        Ops.Names names = Ops.Names.of(List.of("f", "d/g"), List.of("d", "e"));
        Set<Op.Kind> seen = EnumSet.noneOf(Op.Kind.class);
        int poolHits = 0;
        List<Op> ops = new java.util.ArrayList<>();
        for (long seed = 1; seed <= 50; seed++) {
            ops.addAll(Ops.generate(seed, 50, names));
        }
        for (Op op : ops) {
            seen.add(op.kind());
            assertFalse(op.path().contains("..") || op.path().startsWith("/"), op.toString());
            if (op.kind() == Op.Kind.SYMLINK) {
                assertFalse(op.path2().contains("..") || op.path2().startsWith("/"), "target stays inside: " + op);
            }
            if (List.of("f", "d/g", "d", "e").contains(op.path())) {
                poolHits++;
            }
        }
        assertEquals(EnumSet.allOf(Op.Kind.class), seen);
        assertTrue(poolHits > ops.size() * 4 / 10, "mostly names from the lowers: " + poolHits + " of " + ops.size());
    }

    @Test
    void ops_readAsOneLineEach() {
        assertEquals("create a/n1 mode=0640 len=3 data#9", Op.create("a/n1", 0640, 3, 9).toString());
        assertEquals("write f off=4096 len=100 data#1", Op.write("f", 4096, 100, 1).toString());
        assertEquals("rename a -> b/c", Op.rename("a", "b/c").toString());
        assertEquals("rm -r d", Op.removeTree("d").toString());
        assertEquals("chown f -1:100", Op.chown("f", -1, 100).toString());
        assertEquals("symlink ln -> 'x/y'", Op.symlink("ln", "x/y").toString());
        assertEquals("link f as d/h", Op.link("f", "d/h").toString());
        assertEquals("setxattr f user.a=\"v\" CREATE", Op.setxattr("f", "user.a", "v", Sys.XATTR_CREATE).toString());
        assertEquals("utimes f atime=omit mtime=1000000000.000000007",
                Op.utimes("f", 0, Sys.UTIME_OMIT, 1_000_000_000L, 7).toString());
    }

    @Test
    void names_fromLayers_takeTheKindOfTheHighestLayer() throws Exception {
        List<Path> layers = LayerFixture.in(tmp)
                .layer("base").file("a", "file below").dir("b").file("b/c", "c")
                .layer("top").dir("a").whiteout("b/c").symlink("l", "a")
                .layers();
        Ops.Names names = Ops.Names.fromLayers(layers);
        assertEquals(4, names.size()); // a, b, b/c, l
        List<Op> ops = Ops.generate(3, 500, names);
        assertTrue(ops.stream().anyMatch(op -> op.path().equals("b/c")), "whited-out names are used too");
    }

    // ---- application

    @Test
    void createWriteAppendTruncate_giveTheBytesTheyDescribe() throws Exception {
        Path r = root();
        assertEquals(0, Ops.apply(r, Op.create("n", 0600, 5, 11)));
        assertEquals(Errno.EEXIST, Ops.apply(r, Op.create("n", 0600, 0, 0)));
        assertArrayEquals(Ops.data(11, 5), Files.readAllBytes(r.resolve("n")));
        assertEquals(0600, lstat(r, "n").permissions() & 0600);

        assertEquals(0, Ops.apply(r, Op.write("f", 12, 2, 5)));
        byte[] f = Files.readAllBytes(r.resolve("f"));
        assertEquals(14, f.length, "a write past the end leaves a hole");
        assertEquals(0, f[10]);
        assertArrayEquals(Ops.data(5, 2), java.util.Arrays.copyOfRange(f, 12, 14));

        assertEquals(0, Ops.apply(r, Op.append("f", 3, 6)));
        assertEquals(17, Files.size(r.resolve("f")));
        assertEquals(0, Ops.apply(r, Op.truncate("f", 4)));
        assertEquals("0123", Files.readString(r.resolve("f")));

        assertEquals(Errno.EISDIR, Ops.apply(r, Op.write("d", 0, 1, 1)));
        assertEquals(Errno.ENOENT, Ops.apply(r, Op.truncate("missing", 0)));
        assertEquals(Errno.ENOTDIR, Ops.apply(r, Op.create("f/under", 0644, 0, 0)));
    }

    @Test
    void fifo_isNeverWaitedFor() throws Exception {
        Path r = LayerFixture.in(tmp).layer("r").fifo("p").path();
        assertEquals(6 /* ENXIO: no reader */, Ops.apply(r, Op.write("p", 0, 1, 1)));
        assertEquals("ENXIO", Differential.errnoName(6));
    }

    @Test
    void namespaceOps_returnTheKernelsErrno() throws Exception {
        Path r = root();
        assertEquals(Errno.ENOTEMPTY, Ops.apply(r, Op.rmdir("d")));
        assertEquals(0, Ops.apply(r, Op.rmdir("e")));
        assertEquals(0, Ops.apply(r, Op.mkdir("e", 0700)));
        assertEquals(Errno.EEXIST, Ops.apply(r, Op.mkdir("e", 0700)));
        assertEquals(0, Ops.apply(r, Op.rename("f", "d/g")), "rename over an existing file");
        assertEquals("0123456789", Files.readString(r.resolve("d/g")));
        assertEquals(Errno.EINVAL, Ops.apply(r, Op.rename("d", "d/inside")));
        assertEquals(Errno.ENOTEMPTY, Ops.apply(r, Op.rename("e", "d")), "a directory over a non-empty one");
        assertEquals(0, Ops.apply(r, Op.link("d/g", "hard")));
        assertEquals(2, lstat(r, "hard").nlink);
        assertEquals(Errno.EPERM, Ops.apply(r, Op.link("d", "dirlink")));
        assertEquals(0, Ops.apply(r, Op.symlink("ln", "d")));
        assertEquals("d", SYS.readlinkat(Sys.AT_FDCWD, r + "/ln"));
        assertEquals(0, Ops.apply(r, Op.unlink("ln")));
        assertEquals(Errno.ENOENT, Ops.apply(r, Op.unlink("ln")));
        assertEquals(Errno.EISDIR, Ops.apply(r, Op.unlink("d")));
        assertEquals(0, Ops.apply(r, Op.removeTree("d")));
        assertFalse(Files.exists(r.resolve("d")));
        assertEquals(Errno.ENOENT, Ops.apply(r, Op.removeTree("d")));
    }

    @Test
    void attributeOps_setExactValues() throws Exception {
        Path r = root();
        assertEquals(0, Ops.apply(r, Op.chmod("f", 04751)));
        assertEquals(04751, lstat(r, "f").permissions());
        assertEquals(0, Ops.apply(r, Op.chown("f", 1000, -1)));
        assertEquals(1000, lstat(r, "f").uid);
        assertEquals(0, lstat(r, "f").gid);
        assertEquals(0, Ops.apply(r, Op.utimes("f", 1_100_000_000L, 1, 1_200_000_000L, 999_999_999L)));
        Stat st = lstat(r, "f");
        assertEquals(1_100_000_000L, st.atimeSec);
        assertEquals(1_200_000_000L, st.mtimeSec);
        assertEquals(999_999_999L, st.mtimeNsec);
        assertEquals(0, Ops.apply(r, Op.setxattr("f", "user.a", "v1", 0)));
        assertEquals(Errno.EEXIST, Ops.apply(r, Op.setxattr("f", "user.a", "v2", Sys.XATTR_CREATE)));
        assertEquals(Errno.ENODATA, Ops.apply(r, Op.setxattr("f", "user.b", "v2", Sys.XATTR_REPLACE)));
        assertEquals("v1", new String(SYS.lgetxattr(r + "/f", "user.a"), StandardCharsets.UTF_8));
        assertEquals(0, Ops.apply(r, Op.removexattr("f", "user.a")));
        assertEquals(Errno.ENODATA, Ops.apply(r, Op.removexattr("f", "user.a")));
        assertEquals(0, Ops.apply(r, Op.symlink("ln", "f")));
        assertEquals(Errno.EPERM, Ops.apply(r, Op.setxattr("ln", "user.a", "v", 0)), "no user.* xattrs on symlinks");
    }

    @Test
    void moveByCopy_actsLikeMv_withRenameResults() throws Exception {
        Path r = LayerFixture.in(tmp).layer("r")
                .dir("src", 0710).file("src/f", "f", 0600).chown("src/f", 1000, 1000).xattr("src/f", "user.k", "v")
                .file("src/sub/g", "g").hardlink("src/sub/h", "src/sub/g").mtime("src/f", 1_300_000_000L, 42)
                .dir("emptyTarget").file("full/x", "x")
                .path();
        TreeSnapshot.Options o = TreeSnapshot.Options.defaults().withNlink(true).mtimesBefore(1_600_000_000L);
        TreeSnapshot before = TreeSnapshot.of(r.resolve("src"), o);

        assertEquals(Errno.ENOTEMPTY, Ops.moveByCopy(r, "src", "full"));
        assertTrue(Files.exists(r.resolve("src/f")), "a failed move leaves the source");
        assertEquals(0, Ops.moveByCopy(r, "src", "emptyTarget"));
        assertFalse(Files.exists(r.resolve("src")));
        assertEquals(List.of(), TreeSnapshot.diff(before, TreeSnapshot.of(r.resolve("emptyTarget"), o)));
        assertEquals(0, Ops.moveByCopy(r, "emptyTarget", "fresh"));
        assertEquals(List.of(), TreeSnapshot.diff(before, TreeSnapshot.of(r.resolve("fresh"), o)));
    }
}
