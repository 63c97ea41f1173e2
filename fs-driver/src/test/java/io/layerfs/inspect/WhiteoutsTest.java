package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.LayerFixture;

/**
 * {@link Whiteouts} on directories and tars. The mid layer of {@link EncodingStack} holds one marker
 * of every encoding:
 * <pre>
 *   a/kern (char 0/0)  a/.wh.oci  x/trusted (+x: opaque=x)  u/user (+u: user opaque=x)
 *   o1/ trusted opaque  o2/ user opaque  o3/ fuseoverlayfs opaque  o4/.wh..wh..opq   m/shared (a file)
 * </pre>
 */
class WhiteoutsTest {
    private static final List<String> MID = List.of(
            "/a/kern char-device a/kern",
            "/a/oci oci-whiteout a/.wh.oci",
            "/o1 trusted.overlay.opaque o1",
            "/o2 user.overlay.opaque o2",
            "/o3 user.fuseoverlayfs.opaque o3",
            "/o4 oci-opaque o4/.wh..wh..opq",
            "/u/user user.overlay.whiteout u/user",
            "/x/trusted trusted.overlay.whiteout x/trusted");

    @TempDir
    Path tmp;

    private static List<String> lines(List<Marker> markers) {
        List<String> out = new ArrayList<>();
        for (Marker m : markers) {
            out.add(m.path() + " " + m.encoding().id() + " " + m.markerPath() + (m.effective() ? "" : " IGNORED"));
        }
        return out;
    }

    @Test
    void directory_everyEncoding_isListedWithItsMarker() throws Exception {
        EncodingStack fx = EncodingStack.in(tmp);
        assertEquals(MID, lines(Whiteouts.of(fx.lowers.get(1))));
    }

    @Test
    void directory_markersLayerfsIgnores_areListedAsIgnored() throws Exception {
        Path l = LayerFixture.in(tmp).layer("l")
                .file("same/f", "x").whiteoutOci("same")
                .file("loose", "").xattr("loose", "trusted.overlay.whiteout", "")
                .file("notdir", "x").xattr("notdir", "trusted.overlay.opaque", "y")
                .xattr(".", "trusted.overlay.opaque", "y")
                .path();
        List<Marker> found = Whiteouts.of(l);
        assertEquals(List.of(
                "/ trusted.overlay.opaque . IGNORED",
                "/loose trusted.overlay.whiteout loose IGNORED",
                "/notdir trusted.overlay.opaque notdir IGNORED",
                "/same oci-whiteout .wh.same IGNORED"), lines(found));
        assertTrue(found.get(1).note().contains("overlay.opaque=x"), found.get(1).note());
    }

    @Test
    void gnuTar_ofTheLayer_listsTheSameMarkers() throws Exception {
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        Path tar = tmp.resolve("mid.tar.gz");
        Process p = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=*", "-czf", tar.toString(),
                "-C", fx.lowers.get(1).toString(), ".").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(MID, lines(Whiteouts.of(tar)));
    }

    @Test
    void ociTar_whiteoutFilesAndPaxXattrs_areFound() throws Exception {
        Path tar = tmp.resolve("layer.tar");
        try (OutputStream f = Files.newOutputStream(tar); TarArchiveOutputStream t = new TarArchiveOutputStream(f)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            dir(t, "etc/", null);
            file(t, "etc/.wh.motd");
            file(t, "var/lib/.wh..wh..opq");
            dir(t, "opt/", "y");
            TarArchiveEntry dev = new TarArchiveEntry("./gone", TarConstants.LF_CHR);
            dev.setDevMajor(0);
            dev.setDevMinor(0);
            t.putArchiveEntry(dev);
            t.closeArchiveEntry();
        }
        assertEquals(List.of(
                "/etc/motd oci-whiteout etc/.wh.motd",
                "/gone char-device gone",
                "/opt trusted.overlay.opaque opt",
                "/var/lib oci-opaque var/lib/.wh..wh..opq"), lines(Whiteouts.of(tar)));
    }

    @Test
    void tar_entryLeavingTheLayer_isRefused() throws Exception {
        Path tar = tmp.resolve("evil.tar");
        try (OutputStream f = Files.newOutputStream(tar); TarArchiveOutputStream t = new TarArchiveOutputStream(f)) {
            file(t, "a/../../etc/.wh.passwd");
        }
        IOException e = assertThrows(IOException.class, () -> Whiteouts.of(tar));
        assertTrue(e.getMessage().contains("leaves the layer"), e.getMessage());
    }

    @Test
    void gnuTar_everyCompression_listsTheSameMarkers() throws Exception {
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        Path plain = tmp.resolve("mid.tar");
        Process p = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=*", "-cf", plain.toString(),
                "-C", fx.lowers.get(1).toString(), ".").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(MID, lines(Whiteouts.of(plain)), "plain");
        for (String kind : List.of("gz", "bz2", "zst")) {
            Path packed = tmp.resolve("mid.tar." + kind);
            try (OutputStream f = Files.newOutputStream(packed); OutputStream c = compressor(kind, f)) {
                Files.copy(plain, c);
            }
            assertEquals(MID, lines(Whiteouts.of(packed)), kind);
        }
    }

    private static OutputStream compressor(String kind, OutputStream f) throws IOException {
        switch (kind) {
            case "gz":
                return new GzipCompressorOutputStream(f);
            case "bz2":
                return new BZip2CompressorOutputStream(f);
            case "zst":
                return new ZstdCompressorOutputStream(f);
            default:
                throw new IllegalArgumentException(kind);
        }
    }

    @Test
    void xzTar_isAClearError() throws Exception {
        Path tar = tmp.resolve("layer.tar.xz");
        Files.write(tar, new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> Whiteouts.of(tar));
        assertTrue(e.getMessage().contains("xz -d"), e.getMessage());
    }

    @Test
    void gzipTar_isRead() throws Exception {
        Path tar = tmp.resolve("layer.tgz");
        try (OutputStream f = new GZIPOutputStream(Files.newOutputStream(tar));
             TarArchiveOutputStream t = new TarArchiveOutputStream(f)) {
            file(t, "usr/.wh.bin");
        }
        assertEquals(List.of("/usr/bin oci-whiteout usr/.wh.bin"), lines(Whiteouts.of(tar)));
    }

    private static void dir(TarArchiveOutputStream t, String name, String opaque) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        if (opaque != null) {
            e.addPaxHeader("SCHILY.xattr.trusted.overlay.opaque", opaque);
        }
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream t, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(0);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }
}
