package io.layerfs.store;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterInputStream;

/**
 * Tar headers written byte by byte, for the forms commons-compress will not write as a hostile tar has
 * them: a PAX {@code path} that differs from the ustar name, GNU long names, old GNU sparse headers,
 * headers of any size field; and streams generated while they are read (a 100 MB PAX record, a
 * million entries, a gzip bomb), so a test holds none of them in memory. Layout: POSIX.1-2001 ustar
 * (pax(1) "ustar Interchange Format"), GNU tar manual "Basic Tar Format" for the GNU fields.
 */
final class RawTar {
    static final int BLOCK = 512;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** A ustar header block; type is the typeflag; size the data size written in the header. */
    static byte[] header(String name, char type, long size, String linkName) {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name);
        octal(h, 100, 8, type == '5' ? 0755 : 0644);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        number(h, 124, 12, size);
        octal(h, 136, 12, 1_600_000_000L);
        h[156] = (byte) type;
        put(h, 157, 100, linkName == null ? "" : linkName);
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        return h;
    }

    /**
     * An old GNU sparse header ('S'): one data region of length bytes at offset, in a file of realSize.
     * The data that follows the header is the region's bytes.
     */
    static byte[] gnuSparseHeader(String name, long offset, long length, long realSize) {
        byte[] h = header(name, 'S', length, null);
        put(h, 257, 8, "ustar  ");
        number(h, 386, 12, offset);
        number(h, 398, 12, length);
        number(h, 483, 12, realSize);
        return h;
    }

    /**
     * A sparse file in the PAX 0.1 form GNU tar writes (GNU tar manual, "Storing Sparse Files"): PAX
     * records with the real size and the map, then a regular header whose data is the one region.
     */
    RawTar paxSparse(String name, long offset, byte[] region, long realSize) {
        pax(new java.util.TreeMap<>(Map.of("GNU.sparse.size", String.valueOf(realSize),
                "GNU.sparse.map", offset + "," + region.length)));
        return entry(name, '0', null, region);
    }

    /** Fills in the checksum; call last. */
    static byte[] sealed(byte[] h) {
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String s = String.format("%06o", sum);
        put(h, 148, 6, s);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    /** One PAX record: "LEN key=value\n", LEN counting the whole record, itself included. */
    static byte[] paxRecord(String key, String value) {
        int body = key.getBytes(StandardCharsets.UTF_8).length + value.getBytes(StandardCharsets.UTF_8).length + 3;
        int len = body + String.valueOf(body).length();
        if (String.valueOf(len).length() != String.valueOf(body).length()) {
            len++;
        }
        return (len + " " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8);
    }

    RawTar block(byte[] header) {
        out.writeBytes(sealed(header));
        return this;
    }

    /** Data padded to whole blocks. */
    RawTar data(byte[] data) {
        out.writeBytes(data);
        out.writeBytes(new byte[padding(data.length)]);
        return this;
    }

    RawTar entry(String name, char type, String linkName, byte[] data) {
        return block(header(name, type, data.length, linkName)).data(data);
    }

    RawTar file(String name, String content) {
        return entry(name, '0', null, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A PAX extended header ('x') for the entry that follows. */
    RawTar pax(Map<String, String> records) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        records.forEach((k, v) -> b.writeBytes(paxRecord(k, v)));
        return entry("PaxHeaders/x", 'x', null, b.toByteArray());
    }

    /** A GNU long name ('L') or long link name ('K') for the entry that follows. */
    RawTar gnuLong(char type, String value) {
        byte[] v = (value + "\0").getBytes(StandardCharsets.UTF_8);
        return entry("././@LongLink", type, null, v);
    }

    byte[] bytes() {
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    static int padding(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        put(h, off, len - 1, String.format("%0" + (len - 1) + "o", v));
    }

    /**
     * Octal where it fits (with its NUL, or in the whole field as GNU tar writes the largest values),
     * else GNU base-256 (first byte 0x80, then big-endian).
     */
    private static void number(byte[] h, int off, int len, long v) {
        if (Long.toOctalString(v).length() <= len - 1) {
            octal(h, off, len, v);
            return;
        }
        if (Long.toOctalString(v).length() == len) {
            put(h, off, len, Long.toOctalString(v));
            return;
        }
        h[off] = (byte) 0x80;
        for (int i = len - 1; i > 0; i--) {
            h[off + i] = (byte) v;
            v >>>= 8;
        }
    }

    // ---- generated streams ------------------------------------------------------------------------

    /** count bytes of fill, generated as they are read. */
    static InputStream repeat(long count, int fill) {
        return new InputStream() {
            long left = count;

            @Override
            public int read() {
                if (left <= 0) {
                    return -1;
                }
                left--;
                return fill;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) fill);
                left -= n;
                return n;
            }
        };
    }

    /** The streams one after the other; each is made only when the one before it is used up. */
    @SafeVarargs
    static InputStream concat(Supplier<InputStream>... parts) {
        Iterator<Supplier<InputStream>> it = List.of(parts).iterator();
        return new SequenceInputStream(new java.util.Enumeration<InputStream>() {
            @Override
            public boolean hasMoreElements() {
                return it.hasNext();
            }

            @Override
            public InputStream nextElement() {
                return it.next().get();
            }
        });
    }

    static Supplier<InputStream> bytes(byte[] b) {
        return () -> new ByteArrayInputStream(b);
    }

    /** A tar of n entries, entry(i) giving the blocks of entry i, generated as it is read. */
    static InputStream entries(long n, LongFunction<byte[]> entry) {
        return new SequenceInputStream(new java.util.Enumeration<InputStream>() {
            long i;

            @Override
            public boolean hasMoreElements() {
                return i <= n;
            }

            @Override
            public InputStream nextElement() {
                return new ByteArrayInputStream(i++ < n ? entry.apply(i - 1) : new byte[2 * BLOCK]);
            }
        });
    }

    /**
     * A complete gzip member (RFC 1952) of count zero bytes, compressed as it is read: a few KiB of it
     * already stand for gigabytes. The trailer's CRC is that of what was compressed.
     */
    static InputStream gzipOfZeros(long count) {
        CRC32 crc = new CRC32();
        InputStream zeros = new CheckedInputStream(repeat(count, 0), crc);
        byte[] header = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
        return concat(bytes(header), () -> new DeflaterInputStream(zeros, new Deflater(9, true), 1 << 16),
                () -> {
                    long c = crc.getValue();
                    return new ByteArrayInputStream(new byte[] {(byte) c, (byte) (c >> 8), (byte) (c >> 16),
                        (byte) (c >> 24), (byte) count, (byte) (count >> 8), (byte) (count >> 16), (byte) (count >> 24)});
                });
    }

}
