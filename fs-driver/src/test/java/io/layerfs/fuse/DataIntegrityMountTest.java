package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.ProcessMounter;
import io.layerfs.testkit.MountTests;

/**
 * Promise 7's "never wrong data", measured: an fsx-style run (seeded random reads, writes,
 * truncates, appends, and reads and writes through a shared mapping) on a file that starts in the
 * lower layer, checked against an in-memory model after every read and in full every
 * {@value #CHECK_EVERY} operations and after a remount; then fio with crc32c verification.
 * <pre>
 *   lower/file       64 KiB of seeded random bytes (fsx; it grows up to 256 KiB)
 *   lower/fio.dat    64 MiB of zeros, rewritten and verified by fio
 * </pre>
 */
class DataIntegrityMountTest {
    private static final int OPS = Integer.getInteger("layerfs.fsx.ops", 100_000);
    private static final int CHECK_EVERY = 10_000;
    private static final int MAX_SIZE = 256 << 10;
    private static final int MAX_IO = 16 << 10;

    @TempDir
    Path tmp;

    private Path lower;
    private Path upper;
    private Path work;
    private Path mnt;

    @BeforeEach
    void layers() throws IOException {
        MountTests.requireFuse();
        lower = Files.createDirectory(tmp.resolve("lower"));
        upper = Files.createDirectory(tmp.resolve("upper"));
        work = Files.createDirectory(tmp.resolve("work"));
        mnt = Files.createDirectory(tmp.resolve("mnt"));
    }

    private AutoCloseable mount() throws IOException {
        return new ProcessMounter().mount(List.of(lower), upper, work, mnt);
    }

    /** The file as the model says it is: content[0, size). */
    private static final class Model {
        final byte[] content = new byte[MAX_SIZE];
        int size;

        byte[] bytes() {
            return Arrays.copyOf(content, size);
        }
    }

    @Test
    void fsx_randomOpsOnALowerFile_matchTheModel_throughoutAndAfterRemount() throws Exception {
        long seed = Long.getLong("layerfs.fsx.seed", System.nanoTime());
        System.err.println("fsx seed " + seed + " (rerun with -Dlayerfs.fsx.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Model model = new Model();
        model.size = 64 << 10;
        fill(random, model.content, 0, model.size);
        byte[] lowerContent = model.bytes();
        Files.write(lower.resolve("file"), lowerContent);

        int[] counts = new int[7];
        Path file = mnt.resolve("file");
        try (AutoCloseable m = mount()) {
            FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                for (int op = 1; op <= OPS; op++) {
                    int kind = random.nextInt(100);
                    String what;
                    if (kind < 32) {
                        what = read(c, model, random);
                        counts[0]++;
                    } else if (kind < 64) {
                        what = write(c, model, random);
                        counts[1]++;
                    } else if (kind < 68) {
                        what = truncate(c, model, random);
                        counts[2]++;
                    } else if (kind < 78) {
                        what = append(file, model, random);
                        counts[3]++;
                    } else if (kind < 86) {
                        what = mapRead(c, model, random);
                        counts[4]++;
                    } else if (kind < 94) {
                        what = mapWrite(c, model, random);
                        counts[5]++;
                    } else {
                        // reopen: later opens find the file in the upper, not the lower
                        c.close();
                        c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                        what = "reopen";
                        counts[6]++;
                    }
                    if (op % CHECK_EVERY == 0) {
                        assertArrayEquals(model.bytes(), Files.readAllBytes(file), "op " + op + " (" + what + ")");
                    }
                }
            } finally {
                c.close();
            }
        }
        assertArrayEquals(lowerContent, Files.readAllBytes(lower.resolve("file")), "the lower never changes");
        assertArrayEquals(model.bytes(), Files.readAllBytes(upper.resolve("file")), "the upper after unmount");
        try (AutoCloseable m = mount()) {
            assertArrayEquals(model.bytes(), Files.readAllBytes(file), "after remount");
        }
        System.err.printf("fsx: %d ops: %d read, %d write, %d truncate, %d append, %d mmap read, %d mmap write,"
                + " %d reopen; final size %d%n", OPS, counts[0], counts[1], counts[2], counts[3], counts[4],
                counts[5], counts[6], model.size);
    }

    private static void fill(SplittableRandom random, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            b[i] = (byte) random.nextInt(256);
        }
    }

    private static String read(FileChannel c, Model model, SplittableRandom random) throws IOException {
        int off = random.nextInt(MAX_SIZE);
        int len = 1 + random.nextInt(MAX_IO);
        ByteBuffer buf = ByteBuffer.allocate(len);
        int got = 0;
        while (buf.hasRemaining()) {
            int n = c.read(buf, off + got);
            if (n <= 0) {
                break;
            }
            got += n;
        }
        int expected = Math.max(0, Math.min(len, model.size - off));
        String what = "read " + off + "+" + len;
        assertEquals(expected, got, what);
        assertArrayEquals(Arrays.copyOfRange(model.content, off, off + expected), Arrays.copyOf(buf.array(), got), what);
        return what;
    }

    private static String write(FileChannel c, Model model, SplittableRandom random) throws IOException {
        int off = random.nextInt(MAX_SIZE - 1);
        int len = 1 + random.nextInt(Math.min(MAX_IO, MAX_SIZE - off));
        byte[] data = new byte[len];
        fill(random, data, 0, len);
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) {
            c.write(buf, off + buf.position());
        }
        if (off > model.size) {
            Arrays.fill(model.content, model.size, off, (byte) 0);
        }
        System.arraycopy(data, 0, model.content, off, len);
        model.size = Math.max(model.size, off + len);
        return "write " + off + "+" + len;
    }

    private static String truncate(FileChannel c, Model model, SplittableRandom random) throws IOException {
        int size = random.nextInt(MAX_SIZE);
        if (size < model.size) {
            c.truncate(size);
        } else {
            // FileChannel.truncate never grows a file; a write of one byte at the end does
            c.write(ByteBuffer.wrap(new byte[1]), Math.max(0, size - 1));
            Arrays.fill(model.content, model.size, size, (byte) 0);
        }
        model.size = size;
        return "truncate " + size;
    }

    private static String append(Path file, Model model, SplittableRandom random) throws IOException {
        int len = 1 + random.nextInt(Math.min(MAX_IO, MAX_SIZE - model.size + 1));
        if (model.size + len > MAX_SIZE) {
            return "append (full)";
        }
        byte[] data = new byte[len];
        fill(random, data, 0, len);
        try (FileChannel a = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                a.write(buf);
            }
        }
        System.arraycopy(data, 0, model.content, model.size, len);
        model.size += len;
        return "append " + len;
    }

    private static String mapRead(FileChannel c, Model model, SplittableRandom random) throws IOException {
        if (model.size == 0) {
            return "mmap read (empty)";
        }
        int off = random.nextInt(model.size);
        int len = 1 + random.nextInt(Math.min(MAX_IO, model.size - off));
        MappedByteBuffer map = c.map(FileChannel.MapMode.READ_ONLY, off, len);
        byte[] got = new byte[len];
        map.get(got);
        String what = "mmap read " + off + "+" + len;
        assertArrayEquals(Arrays.copyOfRange(model.content, off, off + len), got, what);
        return what;
    }

    private static String mapWrite(FileChannel c, Model model, SplittableRandom random) throws IOException {
        if (model.size == 0) {
            return "mmap write (empty)";
        }
        int off = random.nextInt(model.size);
        int len = 1 + random.nextInt(Math.min(MAX_IO, model.size - off));
        byte[] data = new byte[len];
        fill(random, data, 0, len);
        MappedByteBuffer map = c.map(FileChannel.MapMode.READ_WRITE, off, len);
        map.put(data);
        if (random.nextInt(8) == 0) {
            map.force();
        }
        System.arraycopy(data, 0, model.content, off, len);
        return "mmap write " + off + "+" + len;
    }

    @Test
    void fio_verifyCrc32c_onALowerFile_findsNoCorruption() throws Exception {
        try (FileChannel f = FileChannel.open(lower.resolve("fio.dat"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.allocate(1), (64 << 20) - 1);
        }
        try (AutoCloseable m = mount()) {
            String file = mnt.resolve("fio.dat").toString();
            String out = fio("--name=randwrite", "--filename=" + file, "--size=64m", "--bs=4k", "--rw=randwrite",
                    "--ioengine=psync", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                    "--randseed=6", "--name=mmap", "--filename=" + file, "--size=16m", "--bs=64k",
                    "--rw=randwrite", "--ioengine=mmap", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                    "--stonewall", "--name=sequential", "--filename=" + file, "--size=64m", "--bs=128k",
                    "--rw=write", "--ioengine=psync", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                    "--stonewall");
            assertTrue(out.contains("err= 0"), out);
            assertTrue(!out.contains("verify:") || !out.contains("bad"), out);
        }
        assertEquals(64L << 20, Files.size(upper.resolve("fio.dat")));
    }

    private static String fio(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("fio", "--output-format=normal"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "fio timed out");
        assertEquals(0, p.exitValue(), out);
        System.err.println(out.lines().filter(l -> l.contains("err=") || l.contains("verify")).toList());
        return out;
    }
}
