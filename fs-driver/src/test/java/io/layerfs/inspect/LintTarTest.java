package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Lint} on a stack of layer tars ({@link LayerStack#ofTars}), highest first, built here:
 * <pre>
 *   top.tar.gz (lower 1)                         base.tar (lower 2)
 *   .wh.          (bare)                         d/old  same/f  dup "12 bytes!!!\n"
 *   .wh..wh.plnk  (aufs metadata)                o/x  keep  gone
 *   .wh.keep      (fine: hides base's keep)
 *   .wh.nothing   (hides nothing)
 *   d/.wh..wh..opq  d/.wh.old  (whiteout inside an opaque dir of the same layer)
 *   o/.wh..wh..opq  (fine in a tar)
 *   same/g  .wh.same  (whiteout beside the name)
 *   dup "12 bytes!!!\n"  (same as base)
 *   gone  (char 0/0: not an OCI marker)
 *   notdir (a file)  notdir/.wh..wh..opq
 * </pre>
 */
class LintTarTest {
    @TempDir
    Path tmp;

    private static List<String> lines(List<Finding> findings) {
        List<String> out = new ArrayList<>();
        for (Finding f : findings) {
            out.add(f.check().id() + " " + f.layer().name() + " " + f.path() + (f.bytes() > 0 ? " " + f.bytes() : ""));
        }
        return out;
    }

    /** A tar written entry by entry, through an optional compressor. */
    private static final class Tar implements AutoCloseable {
        private final TarArchiveOutputStream out;

        Tar(OutputStream to) {
            out = new TarArchiveOutputStream(to);
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Tar file(String name, String content) throws IOException {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100644);
            e.setSize(data.length);
            out.putArchiveEntry(e);
            out.write(data);
            out.closeArchiveEntry();
            return this;
        }

        Tar dir(String name) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name + "/");
            e.setMode(040755);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar whiteoutDevice(String name) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_CHR);
            e.setDevMajor(0);
            e.setDevMinor(0);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    private Path base() throws IOException {
        Path p = tmp.resolve("base.tar");
        try (Tar t = new Tar(Files.newOutputStream(p))) {
            t.dir("d").file("d/old", "o").file("same/f", "f").file("dup", "12 bytes!!!\n").file("o/x", "x")
                    .file("keep", "k").file("gone", "g");
        }
        return p;
    }

    private Path top() throws IOException {
        Path p = tmp.resolve("top.tar.gz");
        try (Tar t = new Tar(new GzipCompressorOutputStream(Files.newOutputStream(p)))) {
            t.file(".wh.", "").file(".wh..wh.plnk", "").file(".wh.keep", "").file(".wh.nothing", "")
                    .dir("d").file("d/.wh..wh..opq", "").file("d/.wh.old", "")
                    .dir("o").file("o/.wh..wh..opq", "")
                    .file("same/g", "g").file(".wh.same", "")
                    .file("dup", "12 bytes!!!\n")
                    .whiteoutDevice("gone")
                    .file("notdir", "x").file("notdir/.wh..wh..opq", "");
        }
        return p;
    }

    @Test
    void check_tarStack_findsEveryTarProblemOnce() throws Exception {
        List<Finding> findings = Lint.check(LayerStack.ofTars(List.of(top(), base()), Rules.LAYERFS));
        assertEquals(List.of(
                "reserved-wh-name lower 1 /.wh.",
                "reserved-wh-name lower 1 /.wh..wh.plnk",
                "whiteout-hides-nothing lower 1 /nothing",
                "whiteout-in-opaque-dir lower 1 /d/old",
                "identical-copy lower 1 /dup 12",
                "whiteout-beside-name lower 1 /same",
                "not-oci-marker-in-tar lower 1 /",
                "opaque-on-non-directory lower 1 /notdir"), lines(findings));
        assertTrue(findings.get(6).message().contains("char-device x1"), findings.get(6).message());
        assertEquals("notdir/.wh..wh..opq", findings.get(7).markerPath());
        assertEquals(tmp.resolve("top.tar.gz"), findings.get(0).layer().root());
    }

    @Test
    void check_singleTar_runsTheChecksOfOneLayer() throws Exception {
        List<Finding> findings = Lint.check(LayerStack.ofTars(List.of(top()), Rules.LAYERFS));
        assertEquals(List.of(
                "reserved-wh-name lower 1 /.wh.",
                "reserved-wh-name lower 1 /.wh..wh.plnk",
                "whiteout-in-opaque-dir lower 1 /d/old",
                "whiteout-beside-name lower 1 /same",
                "not-oci-marker-in-tar lower 1 /",
                "opaque-on-non-directory lower 1 /notdir"), lines(findings));
    }

    @Test
    void check_cleanOciTars_findNothing_inAnyCompression() throws Exception {
        Path base = base();
        Path top = tmp.resolve("clean.tar.zst");
        try (Tar t = new Tar(new ZstdCompressorOutputStream(Files.newOutputStream(top)))) {
            t.file(".wh.keep", "").dir("o").file("o/.wh..wh..opq", "").file("o/y", "y").file("dup", "changed");
        }
        assertEquals(List.of(), Lint.check(LayerStack.ofTars(List.of(top, base), Rules.LAYERFS)));
    }

    @Test
    void ofTars_missingTar_isNoSuchFile() {
        assertThrows(NoSuchFileException.class,
                () -> LayerStack.ofTars(List.of(tmp.resolve("nope.tar")), Rules.LAYERFS));
    }
}
