package io.layerfs.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Sys;

/*
 * Each test builds one or two copies of:
 *
 *   t/
 *     d/            0750, user.note="hi"
 *       f           "hello", 0640, 1000:1234
 *     ln -> d       (a symlink to a directory: must not be walked into)
 *     p             fifo
 *     h, h2         one inode, "x"
 */
class TreeSnapshotTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private Path tree(String name) {
        return LayerFixture.in(tmp).layer(name)
                .dir("d", 0750).xattr("d", "user.note", "hi")
                .file("d/f", "hello", 0640).chown("d/f", 1000, 1234)
                .symlink("ln", "d").fifo("p").file("h", "x").hardlink("h2", "h")
                .path();
    }

    @Test
    void describesEveryField_withoutFollowingSymlinks() throws Exception {
        TreeSnapshot s = TreeSnapshot.of(tree("t"));
        assertEquals(List.of(".", "d", "d/f", "h", "h2", "ln", "p"), List.copyOf(s.entries().keySet()));
        TreeSnapshot.Entry f = s.get("d/f");
        assertEquals("reg", f.type());
        assertEquals("0640", f.field("mode"));
        assertEquals("1000:1234", f.field("owner"));
        assertEquals("5", f.field("size"));
        assertEquals("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", f.field("sha256"));
        assertEquals("\"hi\"", s.get("d").field("xattr:user.note"));
        assertEquals("d", s.get("ln").field("target"));
        assertNull(s.get("ln").field("mode"), "a symlink's mode means nothing on Linux");
        assertEquals("fifo", s.get("p").type());
        assertNull(s.get("h").field("nlink"), "nlink only when asked");
        assertNull(s.get("h").field("mtime"), "mtime only when asked");
    }

    @Test
    void identicalTrees_haveNoDifferences() throws Exception {
        TreeSnapshot a = TreeSnapshot.of(tree("a"));
        TreeSnapshot b = TreeSnapshot.of(tree("b"));
        assertEquals(List.of(), TreeSnapshot.diff(a, b));
        assertEquals(a, b);
        assertEquals(a.lines(), b.lines());
    }

    @Test
    void diff_namesEachDifferenceInWords() throws Exception {
        Path a = tree("a");
        Path b = tree("b");
        SYS.fchmodat(Sys.AT_FDCWD, b + "/d/f", 0600);
        SYS.lchownat(Sys.AT_FDCWD, b + "/d", 7, 7);
        SYS.unlinkat(Sys.AT_FDCWD, b + "/ln", 0);
        SYS.symlinkat("elsewhere", Sys.AT_FDCWD, b + "/ln");
        SYS.unlinkat(Sys.AT_FDCWD, b + "/p", 0);
        SYS.lsetxattr(b + "/d", "user.note", "changed".getBytes(), 0);
        SYS.mkdirat(Sys.AT_FDCWD, b + "/new", 0755);
        java.nio.file.Files.writeString(Path.of(b + "/h"), "y");

        List<String> diff = TreeSnapshot.diff("A", TreeSnapshot.of(a), "B", TreeSnapshot.of(b));
        String all = String.join("\n", diff);
        assertTrue(all.contains("d: owner 0:0 (A) vs 7:7 (B), xattr:user.note \"hi\" (A) vs \"changed\" (B)"), all);
        assertTrue(all.contains("d/f: mode 0640 (A) vs 0600 (B)"), all);
        assertTrue(all.contains("h: sha256 "), all);
        assertTrue(all.contains("h2: sha256 "), "h2 is the same inode as h: " + all);
        assertTrue(all.contains("ln: target d (A) vs elsewhere (B)"), all);
        assertTrue(all.contains("only in A: p fifo"), all);
        assertTrue(all.contains("only in B: new dir"), all);
        assertEquals(7, diff.size(), all);
    }

    @Test
    void mtimes_exactBeforeCutoff_recentAfter() throws Exception {
        Path t = LayerFixture.in(tmp).layer("t").file("old", "o").file("new", "n")
                .mtime("old", 1_200_000_000L, 5).path();
        TreeSnapshot s = TreeSnapshot.of(t, TreeSnapshot.Options.defaults().mtimesBefore(1_600_000_000L));
        assertEquals("1200000000.000000005", s.get("old").field("mtime"));
        assertEquals("recent", s.get("new").field("mtime"));
        TreeSnapshot all = TreeSnapshot.of(t, TreeSnapshot.Options.defaults().withAllMtimes());
        assertFalse(all.get("new").field("mtime").equals("recent"));
    }

    @Test
    void nlink_ofNonDirectories_whenAsked() throws Exception {
        TreeSnapshot s = TreeSnapshot.of(tree("t"), TreeSnapshot.Options.defaults().withNlink(true));
        assertEquals("2", s.get("h").field("nlink"));
        assertEquals("1", s.get("d/f").field("nlink"));
        assertNull(s.get("d").field("nlink"), "directory link counts are not compared");
    }

    @Test
    void xattrs_leaveOutSelinux_andCanBeFiltered() throws Exception {
        Path t = LayerFixture.in(tmp).layer("t").file("f", "x")
                .xattr("f", "user.a", "1").xattr("f", "trusted.b", new byte[] {0, 1, (byte) 0xff})
                .xattr("f", "security.selinux", "system_u:object_r:tmp_t:s0").path();
        TreeSnapshot s = TreeSnapshot.of(t);
        assertEquals("\"1\"", s.get("f").field("xattr:user.a"));
        assertEquals("0x0001ff", s.get("f").field("xattr:trusted.b"));
        assertNull(s.get("f").field("xattr:security.selinux"));
        TreeSnapshot userOnly = TreeSnapshot.of(t, TreeSnapshot.Options.defaults().withXattrs(n -> n.startsWith("user.")));
        assertNull(userOnly.get("f").field("xattr:trusted.b"));
    }

    @Test
    void devices_showMajorMinor() throws Exception {
        Path t = LayerFixture.in(tmp).layer("t").whiteout("w").charDevice("c", 4, 64, 0620).path();
        TreeSnapshot s = TreeSnapshot.of(t);
        assertEquals("0,0", s.get("w").field("rdev"));
        assertEquals("4,64", s.get("c").field("rdev"));
        assertEquals("chr", s.get("c").type());
    }
}
