package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * Each layer is applied to tmp/layer; tmp/sentinel (one file) sits beside it and must be unchanged after
 * every refusal:
 * <pre>
 * tmp/
 *   layer/          target
 *   sentinel/passwd "keep"
 * </pre>
 */
class LayerApplierTest {
    @TempDir
    Path tmp;
    Path layer;
    Path sentinel;
    private final Sys sys = Sys.get();

    @BeforeEach
    void setUp() throws IOException {
        layer = Files.createDirectory(tmp.resolve("layer"));
        sentinel = Files.createDirectory(tmp.resolve("sentinel"));
        Files.writeString(sentinel.resolve("passwd"), "keep");
    }

    private LayerApplier.Result apply(byte[] tar) throws IOException {
        return new LayerApplier(1 << 20, sys.geteuid() == 0).apply(new ByteArrayInputStream(tar), layer);
    }

    private void assertRefused(byte[] tar, String messagePart) throws IOException {
        LayerFormatException e = assertThrows(LayerFormatException.class, () -> apply(tar));
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
        try (Stream<Path> s = Files.list(sentinel)) {
            assertEquals(List.of(sentinel.resolve("passwd")), s.toList());
        }
        assertEquals("keep", Files.readString(sentinel.resolve("passwd")));
    }

    @Test
    void apply_plainGzipZstd_sameDiffIdAndTree() throws Exception {
        byte[] tar = new Tars().dir("a").file("a/b", "hello").symlink("a/l", "b").bytes();
        LayerApplier.Result plain = apply(tar);
        assertEquals(Digest.sha256(tar), plain.diffId());
        assertEquals(Digest.sha256(tar), plain.compressedDigest());
        for (byte[] compressed : List.of(Tars.gzip(tar), Tars.zstd(tar))) {
            Path again = Files.createTempDirectory(tmp, "again");
            LayerApplier.Result r = new LayerApplier(1 << 20, false).apply(new ByteArrayInputStream(compressed), again);
            assertEquals(plain.diffId(), r.diffId());
            assertEquals(Digest.sha256(compressed), r.compressedDigest());
            assertEquals("hello", Files.readString(again.resolve("a/b")));
        }
    }

    @Test
    void apply_whiteouts_becomeOverlayFormat_opaqueWhereverItSits() throws Exception {
        byte[] tar = new Tars().dir("d").file("d/keep", "k").file("d/.wh..wh..opq", "")
                .file(".wh.gone", "").dir("e").file("e/.wh.x", "").bytes();
        apply(tar);
        Stat gone = sys.lstat(Sys.AT_FDCWD, layer.resolve("gone").toString());
        assertTrue(gone.isWhiteoutDevice());
        assertTrue(sys.lstat(Sys.AT_FDCWD, layer.resolve("e/x").toString()).isWhiteoutDevice());
        assertArrayEquals("y".getBytes(), sys.lgetxattr(layer.resolve("d").toString(), "trusted.overlay.opaque"));
        assertFalse(Files.exists(layer.resolve("d/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("k", Files.readString(layer.resolve("d/keep")));
    }

    @Test
    void apply_metadata_modesOwnersNanosXattrsLinksDevices() throws Exception {
        assumeTrue(sys.geteuid() == 0, "owners, devices and trusted xattrs need root");
        TarArchiveEntry f = Tars.entry("f", TarConstants.LF_NORMAL, 04750);
        f.setUserId(1234);
        f.setGroupId(5678);
        f.addPaxHeader("SCHILY.xattr.user.note", "hi");
        f.addPaxHeader("SCHILY.xattr.trusted.other", "t");
        TarArchiveEntry d = Tars.entry("dir/", TarConstants.LF_DIR, 0711);
        byte[] tar = new Tars().add(f, "data".getBytes()).hardlink("f2", "f").chardev("tty", 5, 0)
                .fifo("p").add(d, null).file("dir/in", "x").bytes();
        apply(tar);
        Stat st = sys.lstat(Sys.AT_FDCWD, layer.resolve("f").toString());
        assertEquals(04750, st.permissions());
        assertEquals(1234, st.uid);
        assertEquals(5678, st.gid);
        assertEquals(Tars.T.getEpochSecond(), st.mtimeSec);
        assertEquals(Tars.T.getNano(), st.mtimeNsec);
        assertEquals(2, st.nlink);
        assertEquals(st.ino, sys.lstat(Sys.AT_FDCWD, layer.resolve("f2").toString()).ino);
        assertArrayEquals("hi".getBytes(), sys.lgetxattr(layer.resolve("f").toString(), "user.note"));
        Stat tty = sys.lstat(Sys.AT_FDCWD, layer.resolve("tty").toString());
        assertEquals(Stat.S_IFCHR, tty.type());
        assertEquals(LayerApplier.makedev(5, 0), tty.rdev);
        assertEquals(Stat.S_IFIFO, sys.lstat(Sys.AT_FDCWD, layer.resolve("p").toString()).type());
        Stat dir = sys.lstat(Sys.AT_FDCWD, layer.resolve("dir").toString());
        assertEquals(0711, dir.permissions());
        assertEquals(Tars.T.getNano(), dir.mtimeNsec, "directory times are set after its children");
    }

    /** Not UTF-8, with NUL, newline, '=' and a space: what a security.capability value can hold. */
    static final byte[] BINARY = {0x01, 0x00, 0x00, 0x02, (byte) 0xff, (byte) 0xfe, (byte) 0x80, '\n', '=', ' ', (byte) 0xc3};

    @Test
    void apply_binarySchilyXattr_rawBytesKept() throws Exception {
        TarArchiveEntry f = Tars.entry("f", TarConstants.LF_NORMAL, 0644);
        f.setModTime(1_000_000L);
        TarArchiveEntry d = Tars.entry("d/", TarConstants.LF_DIR, 0755);
        d.setModTime(1_000_000L);
        byte[] tar = new Tars()
                .rawPax(java.util.Map.of("SCHILY.xattr.user.cap", BINARY, "SCHILY.xattr.user.text", "plain".getBytes()))
                .add(f, "data".getBytes())
                .rawPax(java.util.Map.of("SCHILY.xattr.user.dircap", BINARY))
                .add(d, null)
                .file("d/in", "x").bytes();
        apply(tar);
        assertArrayEquals(BINARY, sys.lgetxattr(layer.resolve("f").toString(), "user.cap"));
        assertArrayEquals("plain".getBytes(), sys.lgetxattr(layer.resolve("f").toString(), "user.text"));
        assertArrayEquals(BINARY, sys.lgetxattr(layer.resolve("d").toString(), "user.dircap"));
        assertEquals(null, sys.lgetxattr(layer.resolve("d/in").toString(), "user.cap"), "headers are per entry");
    }

    @Test
    void apply_gnuTarBinaryXattr_rawBytesKept() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "x");
        sys.lsetxattr(src.resolve("f").toString(), "user.cap", BINARY, 0);
        Path tarFile = tmp.resolve("x.tar");
        Process tar = new ProcessBuilder("tar", "--format=posix", "--xattrs", "--xattrs-include=user.*", "-cf",
                tarFile.toString(), "-C", src.toString(), "f").inheritIO().start();
        assertEquals(0, tar.waitFor());
        apply(Files.readAllBytes(tarFile));
        assertArrayEquals(BINARY, sys.lgetxattr(layer.resolve("f").toString(), "user.cap"));
    }

    @Test
    void apply_gnuTarPax_keepsNanosecondMtime() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "x");
        Process touch = new ProcessBuilder("touch", "-d", "2021-03-04 05:06:07.123456789 UTC", "f")
                .directory(src.toFile()).inheritIO().start();
        assertEquals(0, touch.waitFor());
        Path tarFile = tmp.resolve("t.tar");
        Process tar = new ProcessBuilder("tar", "--format=pax", "-cf", tarFile.toString(), "f")
                .directory(src.toFile()).inheritIO().start();
        assertEquals(0, tar.waitFor());
        apply(Files.readAllBytes(tarFile));
        Stat st = sys.lstat(Sys.AT_FDCWD, layer.resolve("f").toString());
        assertEquals(123456789, st.mtimeNsec);
    }

    @Test
    void apply_absolutePath_refused() throws Exception {
        assertRefused(new Tars().file(sentinel.resolve("passwd").toString(), "evil").bytes(), "absolute path");
    }

    @Test
    void apply_dotDot_refused() throws Exception {
        assertRefused(new Tars().file("../sentinel/passwd", "evil").bytes(), "'..'");
        assertRefused(new Tars().dir("a").file("a/../../sentinel/x", "evil").bytes(), "'..'");
    }

    @Test
    void apply_writeThroughSymlink_refused() throws Exception {
        assertRefused(new Tars().symlink("a", sentinel.toString()).file("a/passwd", "evil").bytes(), "symlink");
        Files.delete(layer.resolve("a"));
        assertRefused(new Tars().symlink("b", "../sentinel").file("b/new", "evil").bytes(), "symlink");
    }

    @Test
    void apply_hardLinkOutsideOrNotYetExtracted_refused() throws Exception {
        assertRefused(new Tars().hardlink("h", "../sentinel/passwd").bytes(), "'..'");
        assertRefused(new Tars().hardlink("h", "later").file("later", "x").bytes(), "names no file");
        assertRefused(new Tars().hardlink("h2", sentinel.resolve("passwd").toString()).bytes(), "absolute");
    }

    @Test
    void apply_hardLinkThroughSymlinkedDir_refused() throws Exception {
        assertRefused(new Tars().symlink("s", sentinel.toString()).hardlink("h", "s/passwd").bytes(), "names no file");
    }

    @Test
    void apply_bareWhiteoutAndAufsMeta_refused() throws Exception {
        assertRefused(new Tars().file(".wh.", "").bytes(), "bad whiteout");
        assertRefused(new Tars().file("d/.wh..wh.plnk", "").bytes(), "whiteout metadata");
    }

    @Test
    void apply_duplicateEntries_refused() throws Exception {
        assertRefused(new Tars().file("x", "1").file("x", "2").bytes(), "duplicate");
        assertRefused(new Tars().file("y", "1").file(".wh.y", "").bytes(), "duplicate");
    }

    @Test
    void apply_overLimit_refused() throws Exception {
        byte[] big = new byte[2 << 20];
        TarArchiveEntry e = Tars.entry("big", TarConstants.LF_NORMAL, 0644);
        assertRefused(Tars.gzip(new Tars().add(e, big).bytes()), "larger than the limit");
    }

    @Test
    void apply_forgedOverlayMarkers_refused() throws Exception {
        for (String x : List.of("trusted.overlay.opaque", "user.overlay.whiteout", "user.fuseoverlayfs.origin")) {
            TarArchiveEntry e = Tars.entry("f", TarConstants.LF_NORMAL, 0644);
            e.addPaxHeader("SCHILY.xattr." + x, "y");
            assertRefused(new Tars().add(e, new byte[0]).bytes(), "forged overlay xattr");
        }
        assertRefused(new Tars().chardev("w", 0, 0).bytes(), "0/0 character device");
    }

    @Test
    void apply_truncatedGzip_refused() throws Exception {
        byte[] gz = Tars.gzip(new Tars().file("a", "x".repeat(5000)).bytes());
        assertRefused(Arrays.copyOf(gz, gz.length / 2), "truncated");
    }

    @Test
    void apply_corruptGzip_refused() throws Exception {
        byte[] gz = Tars.gzip(new Tars().file("a", "hello world ".repeat(500)).bytes());
        for (int i = 20; i < gz.length - 10; i++) {
            gz[i] ^= 0x5a;
        }
        assertThrows(LayerFormatException.class, () -> apply(gz));
        assertEquals("keep", Files.readString(sentinel.resolve("passwd"), StandardCharsets.UTF_8));
    }
}
