package io.layerfs.store;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PAX extended header records as bytes (POSIX.1-2008 pax, "pax Extended Header"): each record is
 * {@code "LEN KEY=VALUE\n"}, LEN counting the whole record in bytes. Values are byte strings: an xattr
 * such as {@code SCHILY.xattr.security.capability} holds binary data that is not UTF-8, and
 * commons-compress hands PAX values out only as Strings decoded as UTF-8, which replaces such bytes.
 * So this class encodes records for {@link LayerTarWriter} and, through {@link Recorder}, re-reads the
 * PAX headers of each entry from the raw tar bytes for {@link LayerApplier}.
 */
final class PaxRecords {
    static final int BLOCK = 512;

    private PaxRecords() {
    }

    /** The records for the given keys and values, in the map's order. */
    static byte[] encode(Map<String, byte[]> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> r : records.entrySet()) {
            byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
            int body = 1 + key.length + 1 + r.getValue().length + 1; // " KEY=VALUE\n"
            int len = body + String.valueOf(body).length();
            if (String.valueOf(len).length() != String.valueOf(body).length()) {
                len = body + String.valueOf(len).length(); // the length's own digits crossed a power of ten
            }
            out.writeBytes(String.valueOf(len).getBytes(StandardCharsets.US_ASCII));
            out.write(' ');
            out.writeBytes(key);
            out.write('=');
            out.writeBytes(r.getValue());
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** The records in data[off, off + len); a malformed record ends the parse (what was read stays). */
    static Map<String, byte[]> decode(byte[] data, int off, int len) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = off;
        int end = off + len;
        while (pos < end) {
            int space = pos;
            long recordLen = 0;
            while (space < end && data[space] >= '0' && data[space] <= '9' && recordLen < Integer.MAX_VALUE) {
                recordLen = recordLen * 10 + (data[space] - '0');
                space++;
            }
            if (space == pos || space >= end || data[space] != ' ' || recordLen <= 0 || pos + recordLen > end
                    || data[(int) (pos + recordLen - 1)] != '\n') {
                break;
            }
            int recordEnd = (int) (pos + recordLen - 1); // the newline
            int eq = space + 1;
            while (eq < recordEnd && data[eq] != '=') {
                eq++;
            }
            if (eq >= recordEnd) {
                break;
            }
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            out.put(key, Arrays.copyOfRange(data, eq + 1, recordEnd));
            pos = recordEnd + 1;
        }
        return out;
    }

    /**
     * Sits below a TarArchiveInputStream and keeps the raw bytes it reads while it looks for the next
     * entry ({@link #begin} before getNextEntry, {@link #end} after), then finds the local PAX header
     * blocks among them. Tar headers start at multiples of 512 from the start of the stream, so the
     * recording is walked block by block from the first such boundary: metadata entries ('x', 'g',
     * GNU 'L'/'K') are skipped over by their size, the first other header is the entry itself.
     */
    static final class Recorder extends FilterInputStream {
        /** More than any PAX header a layer needs; beyond it the raw values are not offered. */
        private static final int MAX_RECORDING = 8 << 20;
        private final ByteArrayOutputStream recorded = new ByteArrayOutputStream();
        private long offset;
        private long recordingFrom;
        private boolean recording;
        private boolean overflow;

        Recorder(InputStream in) {
            super(in);
        }

        void begin() {
            recorded.reset();
            recordingFrom = offset;
            recording = true;
            overflow = false;
        }

        /** Stops recording; returns the records of the local PAX headers read since begin, raw. */
        Map<String, byte[]> end() {
            recording = false;
            if (overflow) {
                return Map.of();
            }
            byte[] buf = recorded.toByteArray();
            Map<String, byte[]> out = new LinkedHashMap<>();
            int pos = (int) ((BLOCK - recordingFrom % BLOCK) % BLOCK);
            while (pos + BLOCK <= buf.length) {
                byte flag = buf[pos + 156];
                long size = octal(buf, pos + 124, 12);
                if (size < 0 || !(flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K')) {
                    break;
                }
                int data = pos + BLOCK;
                if (data + size > buf.length) {
                    break;
                }
                if (flag == 'x') {
                    out.putAll(decode(buf, data, (int) size));
                }
                pos = data + (int) ((size + BLOCK - 1) / BLOCK * BLOCK);
            }
            return out;
        }

        private static long octal(byte[] b, int off, int len) {
            long v = 0;
            int i = off;
            while (i < off + len && b[i] == ' ') {
                i++;
            }
            for (; i < off + len && b[i] >= '0' && b[i] <= '7'; i++) {
                v = v * 8 + (b[i] - '0');
            }
            return i < off + len && b[i] != 0 && b[i] != ' ' ? -1 : v;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                offset++;
                if (recording) {
                    keep(new byte[] {(byte) b}, 0, 1);
                }
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                offset += n;
                if (recording) {
                    keep(b, off, n);
                }
            }
            return n;
        }

        /** Skipping reads, so the recording and the offset see every byte. */
        @Override
        public long skip(long n) throws IOException {
            byte[] scratch = new byte[(int) Math.min(n, 65536)];
            int r = read(scratch, 0, scratch.length);
            return Math.max(r, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        private void keep(byte[] b, int off, int n) {
            if (recorded.size() + n > MAX_RECORDING) {
                overflow = true;
            } else if (!overflow) {
                recorded.write(b, off, n);
            }
        }
    }
}
