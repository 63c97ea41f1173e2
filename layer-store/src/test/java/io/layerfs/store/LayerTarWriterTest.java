package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * What a commit writes into its layer tar, read back by {@link LayerApplier} and by GNU tar: binary
 * xattr values byte for byte, nanosecond mtimes, long and non-ASCII names; and the same bytes twice.
 *
 * <pre>
 * upper/
 *   f                 user.cap = BINARY (not UTF-8), user.text = "plain", mtime ….123456789
 *   d/                user.cap = BINARY, mtime ….000000001
 *   d/whole           mtime in whole seconds (no PAX header at all)
 *   d/ü-NAME×60       a non-ASCII name longer than ustar's 100 bytes, mtime ….5
 *   link -> d/ü-…     a symlink whose target is that name
 * </pre>
 */
class LayerTarWriterTest {
    private static final Instant F_TIME = Instant.parse("2021-03-04T05:06:07.123456789Z");
    private static final Instant D_TIME = Instant.parse("2020-01-01T00:00:00.000000001Z");
    private static final Instant WHOLE = Instant.parse("2019-06-07T08:09:10Z");
    private static final Instant LONG_TIME = Instant.parse("2018-01-01T00:00:00.5Z");
    private static final String LONG = "ü-" + "long-name-".repeat(12);

    @TempDir
    Path tmp;
    Path upper;
    final Sys sys = Sys.get();

    @BeforeEach
    void setUp() throws Exception {
        upper = Files.createDirectory(tmp.resolve("upper"));
        Path f = upper.resolve("f");
        Files.writeString(f, "data");
        sys.lsetxattr(f.toString(), "user.cap", LayerApplierTest.BINARY, 0);
        sys.lsetxattr(f.toString(), "user.text", "plain".getBytes(StandardCharsets.UTF_8), 0);
        Path d = Files.createDirectory(upper.resolve("d"));
        sys.lsetxattr(d.toString(), "user.cap", LayerApplierTest.BINARY, 0);
        Files.writeString(d.resolve("whole"), "w");
        Files.writeString(d.resolve(LONG), "long");
        Files.createSymbolicLink(upper.resolve("link"), Path.of("d/" + LONG));
        Files.setLastModifiedTime(f, FileTime.from(F_TIME));
        Files.setLastModifiedTime(d.resolve("whole"), FileTime.from(WHOLE));
        Files.setLastModifiedTime(d.resolve(LONG), FileTime.from(LONG_TIME));
        Files.setLastModifiedTime(d, FileTime.from(D_TIME));
    }

    private byte[] write() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LayerTarWriter.write(upper, out);
        return out.toByteArray();
    }

    @Test
    void write_sameUpperTwice_sameBytes() throws Exception {
        assertArrayEquals(write(), write());
    }

    @Test
    void write_binaryXattrsAndNanos_inOnePaxHeaderPerEntry() throws Exception {
        byte[] tar = write();
        String text = new String(tar, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("SCHILY.xattr.user.cap=" + new String(LayerApplierTest.BINARY, StandardCharsets.ISO_8859_1)
                + "\n"), "raw value in SCHILY form");
        assertTrue(text.contains(" mtime=1614834367.123456789\n"), "nine digits");
        assertTrue(text.contains(" mtime=1577836800.000000001\n"), "leading zeros of the fraction kept");
        assertTrue(text.contains(" mtime=1514764800.5\n"), "trailing zeros dropped");
        assertTrue(!text.contains("LIBARCHIVE.") && !text.contains("d/PaxHeaders/whole"), "whole seconds: no header");
        assertEquals(4, text.split("PaxHeaders/", -1).length - 1, "f, d, the long name, the link: one each");
    }

    @Test
    void write_thenApply_xattrsTimesNamesExact() throws Exception {
        Path out = Files.createDirectory(tmp.resolve("applied"));
        new LayerApplier(1 << 20, false).apply(new ByteArrayInputStream(write()), out);
        assertSame(upper, out);
    }

    @Test
    void write_thenGnuTarExtract_xattrsTimesNamesExact() throws Exception {
        Path tarFile = tmp.resolve("layer.tar");
        Files.write(tarFile, write());
        Path out = Files.createDirectory(tmp.resolve("gnu"));
        Process tar = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=user.*", "-xpf", tarFile.toString(),
                "-C", out.toString()).inheritIO().start();
        assertEquals(0, tar.waitFor());
        assertSame(upper, out);
    }

    private void assertSame(Path expected, Path actual) throws Exception {
        for (String rel : new String[] {"f", "d", "d/whole", "d/" + LONG}) {
            Stat want = sys.lstat(Sys.AT_FDCWD, expected.resolve(rel).toString());
            Stat got = sys.lstat(Sys.AT_FDCWD, actual.resolve(rel).toString());
            assertEquals(want.mtimeSec, got.mtimeSec, rel);
            assertEquals(want.mtimeNsec, got.mtimeNsec, rel);
            assertEquals(want.permissions(), got.permissions(), rel);
        }
        assertArrayEquals(LayerApplierTest.BINARY, sys.lgetxattr(actual.resolve("f").toString(), "user.cap"));
        assertArrayEquals("plain".getBytes(StandardCharsets.UTF_8), sys.lgetxattr(actual.resolve("f").toString(), "user.text"));
        assertArrayEquals(LayerApplierTest.BINARY, sys.lgetxattr(actual.resolve("d").toString(), "user.cap"));
        assertEquals("long", Files.readString(actual.resolve("d/" + LONG)));
        assertEquals(Path.of("d/" + LONG), Files.readSymbolicLink(actual.resolve("link")));
    }
}
