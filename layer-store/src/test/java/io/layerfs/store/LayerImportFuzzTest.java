package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Sys;

/**
 * A seeded mutation fuzzer for layer import (issue 6): valid layer tars of every feature are mutated
 * (bytes flipped, truncated, blocks spliced and repeated, header fields rewritten with a correct
 * checksum so the reader believes them: names aimed at the sentinel, type flags, sizes), sometimes
 * compressed after mutation or mutated after compression, and applied. The only failure allowed is
 * {@link LayerFormatException}; any other exception or error fails the test, as does any change to the
 * sentinel tree next to the targets. A failure names its case number; the run is reproducible from
 * {@code -Dlayerfs.fuzz.seed} ({@code -Dlayerfs.fuzz.cases} for more cases).
 * <pre>
 * tmp/
 *   host/etc/passwd, host/bin/, host/link -> etc     the sentinel
 *   targets/N/                                        one target per case, removed after it
 * </pre>
 */
class LayerImportFuzzTest {
    private static final long SEED = Long.getLong("layerfs.fuzz.seed", 0x1a7e5f5L);
    private static final int CASES = Integer.getInteger("layerfs.fuzz.cases", 2000);
    /** Small limits, so a mutated size field costs milliseconds, not the default 64 GiB. */
    private static final LayerLimits LIMITS = LayerLimits.DEFAULTS.maxLayerBytes(4L << 20).maxEntries(10_000);
    private static final String[] HOSTILE_NAMES = {"../../host/etc/passwd", "../x", "a/../../x", "/etc/passwd",
        "", ".", "..", ".wh.", ".wh..wh..opq", ".wh..", "link/passwd", "d/../../../host/bin/x", "f/", "//", "a\\b"};
    private static final byte[] TYPES = "0123456789xgLKSVMNDA\0 ".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;

    @Test
    void apply_mutatedLayers_onlyInvalidLayerRefusals_sentinelUntouched() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("host/etc"));
        Files.writeString(host.resolve("passwd"), "root:x:0:0");
        Files.createDirectories(tmp.resolve("host/bin"));
        Files.createSymbolicLink(tmp.resolve("host/link"), Path.of("etc"));
        Path targets = Files.createDirectory(tmp.resolve("targets"));
        Map<String, String> before = HostTree.snapshot(tmp, targets);
        List<byte[]> seeds = seeds();
        Random random = new Random(SEED);
        int applied = 0;
        int refused = 0;
        boolean root = Sys.get().geteuid() == 0;
        for (int i = 0; i < CASES; i++) {
            byte[] layer = mutate(seeds, random);
            Path target = Files.createDirectory(targets.resolve(String.valueOf(i)));
            try {
                new LayerApplier(LIMITS, root).apply(new ByteArrayInputStream(layer), target);
                applied++;
            } catch (LayerFormatException expected) {
                refused++;
            } catch (Throwable t) {
                Path kept = tmp.resolve("case-" + i + ".layer");
                Files.write(kept, layer);
                fail("case " + i + " (seed " + SEED + ", input kept as " + kept + "): " + t, t);
            }
            assertEquals(before, HostTree.snapshot(tmp, targets), "case " + i + " (seed " + SEED
                    + ") changed the sentinel");
            AtomicFiles.deleteTree(target);
        }
        System.out.printf("layer fuzz: %d cases, %d applied, %d refused (seed %d)%n", CASES, applied, refused, SEED);
    }

    /** Valid layers covering what the applier reads: each kind of entry, PAX, GNU names, sparse, whiteouts. */
    private static List<byte[]> seeds() throws IOException {
        List<byte[]> out = new ArrayList<>();
        TarArchiveEntry x = Tars.entry("etc/conf", TarConstants.LF_NORMAL, 04755);
        x.addPaxHeader("SCHILY.xattr.user.note", "hello");
        x.setUserId(1000);
        x.setGroupId(1000);
        out.add(new Tars().dir("etc").add(x, "data".getBytes(StandardCharsets.UTF_8)).symlink("etc/l", "conf")
                .hardlink("etc/h", "etc/conf").file("etc/.wh.gone", "").dir("opq").file("opq/.wh..wh..opq", "")
                .fifo("p").bytes());
        out.add(new Tars().dir("a/b/c").file("a/b/c/" + "long".repeat(40), "x".repeat(700))
                .symlink("a/s", "b/c").file("a/b/f", "").bytes());
        out.add(new RawTar().pax(Map.of("path", "paxname", "mtime", "1600000000.5")).file("ustarname", "p")
                .gnuLong('L', "gnu/" + "n".repeat(120)).file("short", "g")
                .file("base", "b").gnuLong('K', "base").entry("hl", '1', "x", new byte[0]).bytes());
        out.add(new RawTar().block(RawTar.gnuSparseHeader("sparse", 5000, 3, 9000)).data("abc".getBytes())
                .paxSparse("sparse2", 100, "z".getBytes(), 4096).bytes());
        out.add(new Tars().chardev("null", 1, 3).file("f", "x".repeat(1500)).bytes());
        List<byte[]> compressed = new ArrayList<>();
        for (byte[] s : out) {
            compressed.add(Tars.gzip(s));
            compressed.add(Tars.zstd(s));
        }
        out.addAll(compressed);
        return out;
    }

    private static byte[] mutate(List<byte[]> seeds, Random r) throws IOException {
        byte[] seed = seeds.get(r.nextInt(seeds.size()));
        boolean compressed = (seed[0] & 0xff) == 0x1f || (seed[0] & 0xff) == 0x28;
        byte[] b = seed.clone();
        int rounds = 1 + r.nextInt(4);
        for (int k = 0; k < rounds; k++) {
            b = compressed ? raw(b, r) : (r.nextInt(10) < 7 ? header(b, r) : raw(b, r));
        }
        if (!compressed && r.nextInt(5) == 0) {
            b = r.nextBoolean() ? Tars.gzip(b) : Tars.zstd(b);
        }
        return b;
    }

    /** Byte-level: flip, overwrite, truncate, splice a block elsewhere, repeat a block. */
    private static byte[] raw(byte[] b, Random r) {
        if (b.length == 0) {
            return b;
        }
        switch (r.nextInt(5)) {
            case 0 -> {
                for (int n = 1 + r.nextInt(8); n > 0; n--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 1 -> {
                b[r.nextInt(b.length)] = (byte) new int[] {0, 0xff, '/', '.', '0', '7', 'x', 0x80}[r.nextInt(8)];
                return b;
            }
            case 2 -> {
                return Arrays.copyOf(b, r.nextInt(b.length));
            }
            case 3 -> {
                int from = r.nextInt(b.length);
                int to = r.nextInt(b.length);
                int len = Math.min(Math.min(512, b.length - from), b.length - to);
                System.arraycopy(b.clone(), from, b, to, len);
                return b;
            }
            default -> {
                int at = r.nextInt(b.length / 512 + 1) * 512;
                if (at + 512 > b.length) {
                    return b;
                }
                byte[] block = Arrays.copyOfRange(b, at, at + 512);
                byte[] out = new byte[b.length + 512 * (1 + r.nextInt(3))];
                System.arraycopy(b, 0, out, 0, at);
                int pos = at;
                while (pos < at + (out.length - b.length)) {
                    System.arraycopy(block, 0, out, pos, 512);
                    pos += 512;
                }
                System.arraycopy(b, at, out, pos, b.length - at);
                return out;
            }
        }
    }

    /** Header-level: rewrite a field of a header block and fix its checksum, so the reader takes it. */
    private static byte[] header(byte[] b, Random r) {
        List<Integer> headers = new ArrayList<>();
        for (int at = 0; at + 512 <= b.length; at += 512) {
            if (b[at + 257] == 'u' && b[at + 258] == 's' && b[at + 259] == 't') {
                headers.add(at);
            }
        }
        if (headers.isEmpty()) {
            return raw(b, r);
        }
        int at = headers.get(r.nextInt(headers.size()));
        byte[] h = Arrays.copyOfRange(b, at, at + 512);
        switch (r.nextInt(6)) {
            case 0 -> field(h, 0, 100, HOSTILE_NAMES[r.nextInt(HOSTILE_NAMES.length)]);
            case 1 -> field(h, 157, 100, HOSTILE_NAMES[r.nextInt(HOSTILE_NAMES.length)]);
            case 2 -> h[156] = TYPES[r.nextInt(TYPES.length)];
            case 3 -> field(h, 124, 12, Long.toOctalString(r.nextInt(3) == 0 ? r.nextInt(1 << 20)
                    : r.nextInt(2048)));
            case 4 -> field(h, 100, 8, Long.toOctalString(r.nextInt(1 << 12)));
            default -> {
                field(h, 329, 8, Long.toOctalString(r.nextInt(300)));
                field(h, 337, 8, Long.toOctalString(r.nextInt(300)));
            }
        }
        System.arraycopy(RawTar.sealed(h), 0, b, at, 512);
        return b;
    }

    private static void field(byte[] h, int off, int len, String value) {
        Arrays.fill(h, off, off + len, (byte) 0);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(v, 0, h, off, Math.min(v.length, len - 1));
    }
}
