package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.LongFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.github.luben.zstd.ZstdOutputStream;

/**
 * Every {@link LayerLimits} bound at N and N+1 (issue 6, promise 6): one layer whose measure is exactly
 * N is applied under the limit N and refused under the limit N - 1, with a message naming the limit.
 */
class LayerLimitsTest {
    @TempDir
    Path tmp;
    private int applies;

    private void apply(byte[] tar, LayerLimits limits) throws IOException {
        Path target = Files.createDirectory(tmp.resolve("t" + applies++));
        new LayerApplier(limits, false).apply(new ByteArrayInputStream(tar), target);
    }

    /** tar is accepted with limit(n) and refused with limit(n - 1), saying messagePart. */
    private void atLimit(byte[] tar, long n, LongFunction<LayerLimits> limit, String messagePart) throws IOException {
        apply(tar, limit.apply(n));
        LayerFormatException e = assertThrows(LayerFormatException.class, () -> apply(tar, limit.apply(n - 1)));
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
        assertTrue(e.getMessage().contains(String.valueOf(n - 1)), "names the limit: " + e.getMessage());
    }

    @Test
    void defaults_areTheDocumentedOnes() {
        LayerLimits d = LayerLimits.DEFAULTS;
        assertEquals(64L << 30, d.maxUncompressedBytes());
        assertEquals(1_000_000, d.maxEntries());
        assertEquals(256, d.maxPathDepth());
        assertEquals(4095, d.maxPathBytes());
        assertEquals(1 << 20, d.maxHeaderBytes());
        assertEquals(64L << 30, d.maxSparseRealBytes());
        assertEquals(27, d.maxZstdWindowLog());
        assertEquals(LayerStore.DEFAULT_MAX_LAYER_BYTES, d.maxUncompressedBytes());
    }

    @Test
    void uncompressedBytes_atNAndNPlusOne() throws IOException {
        byte[] tar = new Tars().file("f", "x".repeat(3000)).bytes();
        atLimit(tar, tar.length, n -> LayerLimits.DEFAULTS.maxLayerBytes(n), "larger than the limit");
        byte[] gz = Tars.gzip(tar);
        atLimit(gz, tar.length, n -> LayerLimits.DEFAULTS.maxLayerBytes(n), "larger than the limit");
    }

    @Test
    void entries_atNAndNPlusOne() throws IOException {
        Tars t = new Tars().dir("d");
        for (int i = 0; i < 6; i++) {
            t.file("d/f" + i, "");
        }
        atLimit(t.bytes(), 7, n -> LayerLimits.DEFAULTS.maxEntries(n), "entries");
    }

    @Test
    void pathDepth_atNAndNPlusOne() throws IOException {
        atLimit(new Tars().file("a/b/c/d/e/f", "x").bytes(), 6, n -> LayerLimits.DEFAULTS.maxPathDepth((int) n),
                "deeper than the limit");
        // a hard link's target is held to the same bound
        byte[] link = new Tars().file("a/b/c/f", "x").hardlink("h", "a/b/c/f").bytes();
        atLimit(link, 4, n -> LayerLimits.DEFAULTS.maxPathDepth((int) n), "deeper than the limit");
    }

    @Test
    void pathBytes_atNAndNPlusOne() throws IOException {
        String name = "dir/" + "é".repeat(8) + ".txt"; // 4 + 16 + 4 bytes in UTF-8
        assertEquals(24, name.getBytes(StandardCharsets.UTF_8).length);
        atLimit(new Tars().file(name, "x").bytes(), 24, n -> LayerLimits.DEFAULTS.maxPathBytes((int) n),
                "longer than the limit");
        atLimit(new Tars().symlink("l", "t".repeat(30)).bytes(), 30, n -> LayerLimits.DEFAULTS.maxPathBytes((int) n),
                "longer than the limit");
    }

    @Test
    void nameMax_256ByteComponent_refused() throws IOException {
        apply(new Tars().file("n".repeat(255), "x").bytes(), LayerLimits.DEFAULTS);
        LayerFormatException e = assertThrows(LayerFormatException.class,
                () -> apply(new Tars().file("n".repeat(256), "x").bytes(), LayerLimits.DEFAULTS));
        assertTrue(e.getMessage().contains("longer than 255 bytes"), e.getMessage());
    }

    @Test
    void headerBytes_atNAndNPlusOne() throws IOException {
        // PAX header block + 1,024 bytes of records + the entry's own header block: 2,048 bytes
        String value = "v".repeat(1010);
        assertEquals(1024, RawTar.paxRecord("comment", value).length);
        byte[] tar = new RawTar().pax(Map.of("comment", value)).file("f", "x").bytes();
        atLimit(tar, 2048, n -> LayerLimits.DEFAULTS.maxHeaderBytes((int) n), "headers of one entry");
        // a GNU long name the same way: its header block + 1,024 bytes + the entry's header block
        String longName = ("n".repeat(99) + "/").repeat(10) + "x".repeat(23); // 1,023 bytes and a NUL
        byte[] gnu = new RawTar().gnuLong('L', longName).file("short", "x").bytes();
        atLimit(gnu, 2048, n -> LayerLimits.DEFAULTS.maxHeaderBytes((int) n), "headers of one entry");
    }

    @Test
    void sparseRealBytes_atNAndNPlusOne() throws IOException {
        long real = 10L << 20;
        byte[] tar = new RawTar().block(RawTar.gnuSparseHeader("s", real - 1, 1, real)).data(new byte[] {'x'})
                .bytes();
        atLimit(tar, real, n -> LayerLimits.DEFAULTS.maxSparseRealBytes(n), "sparse");
    }

    @Test
    void zstdWindow_atNAndNPlusOne() throws IOException {
        byte[] tar = new Tars().file("f", "x".repeat(100)).bytes();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(b)) {
            z.setWindowLog(20);
            z.write(tar);
        }
        byte[] frame = b.toByteArray();
        // Window_Descriptor (RFC 8878 3.1.1.1.2): exponent 10 -> 2^20 bytes; checks the frame says so
        assertEquals(0, frame[4] & 0x20, "a frame with a window descriptor");
        assertEquals(10 << 3, frame[5] & 0xff);
        atLimit(frame, 20, n -> LayerLimits.DEFAULTS.maxZstdWindowLog((int) n), "window larger than the limit");
    }
}
