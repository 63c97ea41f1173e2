package io.layerfs.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/*
 * The fixture used by most tests here (two layers, "top" above "base"):
 *
 *   base/                       top/
 *     a/ x y z w                  a/ (trusted.overlay.opaque=x)
 *     b/ inner                      x        char 0/0 whiteout
 *     c/ old                        y        zero-size, trusted.overlay.whiteout
 *     d/ keep                     b/ (trusted.overlay.opaque=y) new
 *                                 c/ .wh.old  (OCI form: the kernel shows it as a file)
 *                                 d/ .wh..wh..opq (OCI form)
 */
class LayerFixtureTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private List<Path> twoLayers() {
        return LayerFixture.in(tmp.resolve("layers"))
                .layer("base").file("a/x", "x").file("a/y", "y").file("a/z", "z").file("a/w", "w")
                .file("b/inner", "i").file("c/old", "o").file("d/keep", "k")
                .layer("top").whiteout("a/x").whiteoutXattr("a/y").opaque("b").file("b/new", "n")
                .whiteoutOci("c/old").opaqueOci("d")
                .layers();
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().toString();
    }

    private static String xattr(Path p, String name) throws Exception {
        byte[] v = SYS.lgetxattr(abs(p), name);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    @Test
    void layers_areReturnedHighestFirst() {
        List<Path> layers = twoLayers();
        assertEquals(List.of(tmp.resolve("layers/top"), tmp.resolve("layers/base")), layers);
    }

    @Test
    void whiteout_isCharDevice00WithModeZero() throws Exception {
        Path top = twoLayers().get(0);
        Stat st = SYS.lstat(Sys.AT_FDCWD, abs(top.resolve("a/x")));
        assertEquals(Stat.S_IFCHR, st.type());
        assertEquals(0, st.rdev);
        assertEquals(0, st.permissions());
        assertTrue(st.isWhiteoutDevice());
    }

    @Test
    void whiteoutXattr_isEmptyFileWithXattr_andMarksParentX() throws Exception {
        Path top = twoLayers().get(0);
        Stat st = SYS.lstat(Sys.AT_FDCWD, abs(top.resolve("a/y")));
        assertTrue(st.isRegular());
        assertEquals(0, st.size);
        assertEquals("", xattr(top.resolve("a/y"), LayerFixture.TRUSTED_WHITEOUT));
        assertEquals("x", xattr(top.resolve("a"), LayerFixture.TRUSTED_OPAQUE));
    }

    @Test
    void whiteoutXattr_inOpaqueDirectory_keepsY() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l").opaque("d").whiteoutXattr("d/gone").path();
        assertEquals("y", xattr(l.resolve("d"), LayerFixture.TRUSTED_OPAQUE));
    }

    @Test
    void whiteoutUserXattr_usesUserNamespace() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l").whiteoutUserXattr("d/gone").path();
        assertEquals("", xattr(l.resolve("d/gone"), LayerFixture.USER_WHITEOUT));
        assertEquals("x", xattr(l.resolve("d"), LayerFixture.USER_OPAQUE));
        assertNull(xattr(l.resolve("d"), LayerFixture.TRUSTED_OPAQUE));
    }

    @Test
    void ociForms_areEmptyFilesWithReservedNames() throws Exception {
        Path top = twoLayers().get(0);
        Stat wh = SYS.lstat(Sys.AT_FDCWD, abs(top.resolve("c/.wh.old")));
        Stat opq = SYS.lstat(Sys.AT_FDCWD, abs(top.resolve("d/.wh..wh..opq")));
        assertTrue(wh.isRegular() && wh.size == 0);
        assertTrue(opq.isRegular() && opq.size == 0);
        assertFalse(Files.exists(top.resolve("c/old")));
    }

    @Test
    void opaqueForms_setTheirXattrs() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l")
                .opaque("k").opaqueUser("u").opaqueFuseOverlay("f").dir("m", 0700).opaque("m").path();
        assertEquals("y", xattr(l.resolve("k"), "trusted.overlay.opaque"));
        assertEquals("y", xattr(l.resolve("u"), "user.overlay.opaque"));
        assertEquals("y", xattr(l.resolve("f"), "user.fuseoverlayfs.opaque"));
        assertNull(xattr(l.resolve("u"), "trusted.overlay.opaque"));
        assertEquals(0700, SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("m"))).permissions(), "opaque keeps an existing mode");
    }

    @Test
    void entries_haveExactModesOwnersTimesAndLinks() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l")
                .file("f", "data", 0666).dir("d", 0777).dir("e/f/g")
                .symlink("ln", "../elsewhere").hardlink("h", "f").fifo("p", 0640)
                .chown("f", 1000, 1234).xattr("d", "user.note", "hello").mtime("f", 1_234_567_890L, 123_456_789L)
                .path();
        Stat f = SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("f")));
        assertEquals(0666, f.permissions(), "mode is exact whatever the umask");
        assertEquals(1000, f.uid);
        assertEquals(1234, f.gid);
        assertEquals(2, f.nlink);
        assertEquals(1_234_567_890L, f.mtimeSec);
        assertEquals(123_456_789L, f.mtimeNsec);
        assertEquals(f.ino, SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("h"))).ino);
        assertArrayEquals("data".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(l.resolve("f")));
        assertEquals(0777, SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("d"))).permissions());
        assertEquals(0755, SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("e/f"))).permissions(), "implicit parents are 0755");
        assertEquals("../elsewhere", SYS.readlinkat(Sys.AT_FDCWD, abs(l.resolve("ln"))));
        Stat p = SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("p")));
        assertEquals(Stat.S_IFIFO, p.type());
        assertEquals(0640, p.permissions());
        assertEquals("hello", xattr(l.resolve("d"), "user.note"));
    }

    @Test
    void fileOfSize_hasExactSizeModeAndNoHoles() throws Exception {
        long size = 3L * (1 << 20) + 123;
        Path base = LayerFixture.in(tmp.resolve("layers")).layer("base").fileOfSize("big/data", size, 0640)
                .layers().get(0);
        Stat st = SYS.lstat(Sys.AT_FDCWD, abs(base.resolve("big/data")));
        assertEquals(size, st.size);
        assertEquals(0640, st.permissions());
        assertTrue(st.blocks * 512 >= size, "every block allocated");
        byte[] data = Files.readAllBytes(base.resolve("big/data"));
        assertEquals((byte) 7, data[0]);
        assertEquals(data[5], data[(1 << 20) + 5], "pattern repeats every MiB");
        assertEquals((byte) (122 * 31 + 7), data[data.length - 1], "last byte, offset 122 in its MiB");
    }

    @Test
    void charDevice_encodesMajorMinor() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l").charDevice("null", 1, 3, 0666).path();
        Stat st = SYS.lstat(Sys.AT_FDCWD, abs(l.resolve("null")));
        assertEquals(1, LayerFixture.major(st.rdev));
        assertEquals(3, LayerFixture.minor(st.rdev));
        assertEquals(LayerFixture.makedev(1, 3), st.rdev);
        assertEquals(0x12345, LayerFixture.major(LayerFixture.makedev(0x12345, 0x6789a)));
        assertEquals(0x6789a, LayerFixture.minor(LayerFixture.makedev(0x12345, 0x6789a)));
    }

    @Test
    void badPathsAndDuplicates_areRejected() {
        LayerFixture.Layer l = LayerFixture.in(tmp).layer("l").file("f", "1");
        assertThrows(IllegalArgumentException.class, () -> l.file("../escape", "x"));
        assertThrows(IllegalArgumentException.class, () -> l.file("/abs", "x"));
        assertThrows(IllegalArgumentException.class, () -> l.dir("a//b"));
        assertThrows(java.io.UncheckedIOException.class, () -> l.file("f", "again"));
        assertThrows(IllegalStateException.class, () -> l.file("f/under-a-file", "x"));
        assertThrows(java.io.UncheckedIOException.class, () -> l.layer("l"), "layer directories must be new");
    }

    // ---- what the kernel makes of the markers (it is the reference, so the fixture must speak its language)

    @Test
    void kernelOverlay_honoursKernelMarkers_andShowsOciMarkersAsFiles() throws Exception {
        MountTests.requireMountPrivileges();
        List<Path> layers = twoLayers();
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        TreeSnapshot view;
        try (KernelOverlay overlay = KernelOverlay.mountReadOnly(layers, mnt)) {
            view = TreeSnapshot.of(overlay.mountpoint());
        }
        assertFalse(view.contains("a/x"), "char 0/0 whiteout hides a/x\n" + view);
        assertFalse(view.contains("a/y"), "xattr whiteout in an opaque=x dir hides a/y\n" + view);
        assertTrue(view.contains("a/z") && view.contains("a/w"), "a is merged, not opaque\n" + view);
        assertFalse(view.contains("b/inner"), "opaque=y hides the lower b\n" + view);
        assertTrue(view.contains("b/new"));
        assertTrue(view.contains("c/old") && view.contains("c/.wh.old"), "the kernel does not know OCI whiteouts\n" + view);
        assertTrue(view.contains("d/keep") && view.contains("d/.wh..wh..opq"), "nor OCI opaque markers\n" + view);
        assertNull(view.get("a").field("xattr:trusted.overlay.opaque"), "overlay xattrs are hidden in the union");
    }

    @Test
    void kernelOverlay_honoursXattrWhiteoutAtLayerRoot() throws Exception {
        MountTests.requireMountPrivileges();
        List<Path> layers = LayerFixture.in(tmp.resolve("layers"))
                .layer("base").file("gone", "g").file("stay", "s")
                .layer("top").whiteoutXattr("gone")
                .layers();
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        TreeSnapshot view;
        try (KernelOverlay overlay = KernelOverlay.mountReadOnly(layers, mnt)) {
            view = TreeSnapshot.of(overlay.mountpoint());
        }
        assertFalse(view.contains("gone"), view.toString());
        assertTrue(view.contains("stay"), view.toString());
    }

    // ---- randomLowers

    @Test
    void randomLowers_sameSeedSameBytes_otherSeedOtherTree() throws Exception {
        TreeSnapshot.Options all = TreeSnapshot.Options.defaults().withAllMtimes().withNlink(true);
        List<Path> one = LayerFixture.in(tmp.resolve("one")).randomLowers(42, 3);
        List<Path> two = LayerFixture.in(tmp.resolve("two")).randomLowers(42, 3);
        List<Path> other = LayerFixture.in(tmp.resolve("other")).randomLowers(43, 3);
        assertEquals(3, one.size());
        assertEquals("lower2", one.get(0).getFileName().toString(), "highest first");
        for (int i = 0; i < 3; i++) {
            TreeSnapshot a = TreeSnapshot.of(one.get(i), all);
            TreeSnapshot b = TreeSnapshot.of(two.get(i), all);
            assertEquals(List.of(), TreeSnapshot.diff(a, b));
        }
        assertNotEquals(TreeSnapshot.of(one.get(2), all), TreeSnapshot.of(other.get(2), all));
    }

    @Test
    void randomLowers_containEveryKindOfEntry_andOnlyKernelMarkers() throws Exception {
        boolean whiteout = false;
        boolean opaque = false;
        boolean symlink = false;
        boolean hardlink = false;
        boolean fifo = false;
        boolean bigFile = false;
        boolean notRoot = false;
        for (long seed = 1; seed <= 12; seed++) {
            for (Path layer : LayerFixture.in(tmp.resolve("s" + seed)).randomLowers(seed, 4)) {
                TreeSnapshot t = TreeSnapshot.of(layer, TreeSnapshot.Options.defaults().withNlink(true).withAllMtimes());
                for (TreeSnapshot.Entry e : t.entries().values()) {
                    String name = e.path().substring(e.path().lastIndexOf('/') + 1);
                    assertFalse(name.startsWith(".wh."), "no OCI markers: " + e);
                    for (String field : e.fields().keySet()) {
                        assertFalse(field.startsWith("xattr:user.overlay") || field.startsWith("xattr:user.fuseoverlayfs"),
                                "no user.* overlay markers: " + e);
                    }
                    if ("chr".equals(e.type())) {
                        assertEquals("0,0", e.field("rdev"), "only whiteout devices: " + e);
                        whiteout = true;
                    }
                    if ("\"y\"".equals(e.field("xattr:trusted.overlay.opaque"))) {
                        opaque = true;
                    }
                    if ("lnk".equals(e.type())) {
                        String target = e.field("target");
                        assertFalse(target.startsWith("/") || target.contains(".."), "target must stay inside: " + e);
                        symlink = true;
                    }
                    hardlink |= "reg".equals(e.type()) && !"1".equals(e.field("nlink"));
                    fifo |= "fifo".equals(e.type());
                    bigFile |= "reg".equals(e.type()) && Long.parseLong(e.field("size")) > 8192;
                    notRoot |= !e.field("owner").equals("0:0");
                    if (!e.path().equals(".")) {
                        assertTrue(Long.parseLong(e.field("mtime").split("\\.")[0]) < RandomLowers.NEWEST,
                                "explicit old mtime: " + e);
                    }
                }
            }
        }
        assertTrue(whiteout && opaque && symlink && hardlink && fifo && bigFile && notRoot,
                "whiteout " + whiteout + " opaque " + opaque + " symlink " + symlink + " hardlink " + hardlink
                        + " fifo " + fifo + " bigFile " + bigFile + " notRoot " + notRoot);
    }

    @Test
    void randomLowers_mountWithKernelOverlay() throws Exception {
        MountTests.requireMountPrivileges();
        for (long seed = 1; seed <= 5; seed++) {
            List<Path> layers = LayerFixture.in(tmp.resolve("s" + seed)).randomLowers(seed, 1 + (int) (seed % 4));
            Path mnt = Files.createDirectories(tmp.resolve("mnt" + seed));
            try (KernelOverlay overlay = KernelOverlay.mountReadOnly(layers, mnt)) {
                TreeSnapshot view = TreeSnapshot.of(overlay.mountpoint());
                for (TreeSnapshot.Entry e : view.entries().values()) {
                    assertNotEquals("chr", e.type(), "whiteouts never show in the union: " + e);
                }
            }
        }
    }
}
