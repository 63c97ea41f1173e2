package io.layerfs.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;

/** Builds tar files in memory for tests: {@code new Tars().dir("a").file("a/b", "x").bytes()}. */
final class Tars {
    /** commons-compress writes PAX times in 100 ns steps; GnuTarNanosTest covers full nanoseconds. */
    static final Instant T = Instant.parse("2021-03-04T05:06:07.123456700Z");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());

    Tars() {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    Tars dir(String name) throws IOException {
        return add(entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, 0755), null);
    }

    Tars file(String name, String content) throws IOException {
        return add(entry(name, TarConstants.LF_NORMAL, 0644), content.getBytes(StandardCharsets.UTF_8));
    }

    Tars symlink(String name, String target) throws IOException {
        TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK, 0777);
        e.setLinkName(target);
        return add(e, null);
    }

    Tars hardlink(String name, String target) throws IOException {
        TarArchiveEntry e = entry(name, TarConstants.LF_LINK, 0644);
        e.setLinkName(target);
        return add(e, null);
    }

    Tars chardev(String name, int major, int minor) throws IOException {
        TarArchiveEntry e = entry(name, TarConstants.LF_CHR, 0600);
        e.setDevMajor(major);
        e.setDevMinor(minor);
        return add(e, null);
    }

    Tars fifo(String name) throws IOException {
        return add(entry(name, TarConstants.LF_FIFO, 0640), null);
    }

    /** Adds a prepared entry (for owners, xattrs, modes); content null for non-files. */
    Tars add(TarArchiveEntry e, byte[] content) throws IOException {
        if (content != null) {
            e.setSize(content.length);
        }
        tar.putArchiveEntry(e);
        if (content != null) {
            tar.write(content);
        }
        tar.closeArchiveEntry();
        return this;
    }

    /**
     * Adds a local PAX header ('x') with the given records as raw bytes, for the entry added next
     * (which then must need no PAX header of commons-compress's own: whole-second mtime, short name).
     */
    Tars rawPax(java.util.Map<String, byte[]> records) throws IOException {
        byte[] data = PaxRecords.encode(records);
        TarArchiveEntry x = new TarArchiveEntry("PaxHeaders/next", TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
        x.setSize(data.length);
        tar.putArchiveEntry(x);
        tar.write(data);
        tar.closeArchiveEntry();
        return this;
    }

    static TarArchiveEntry entry(String name, byte type, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setMode(mode);
        e.setLastModifiedTime(FileTime.from(T));
        return e;
    }

    byte[] bytes() throws IOException {
        tar.finish();
        tar.close();
        return out.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new GzipCompressorOutputStream(b)) {
            o.write(data);
        }
        return b.toByteArray();
    }

    static byte[] zstd(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new ZstdCompressorOutputStream(b)) {
            o.write(data);
        }
        return b.toByteArray();
    }
}
