package io.layerfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Data path of open files, in-process: pread of {@code size} bytes from a file of a lower layer and
 * from a file of the upper, and pwrite of {@code size} bytes to an upper file. Each call moves to
 * the next {@code size}-aligned offset of a 64 MiB file, wrapping around, so reads come from the
 * page cache (warm) and writes dirty it without fsync: the figures are the engine's and the
 * binding's cost per call, not the disk's.
 *
 * <p>The main figures use a native buffer (its address), as the FUSE adapter does with libfuse's
 * buffer; {@code readLowerHeapArray} reads into a {@code byte[]} for comparison.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ReadWriteBench {
    private static final long FILE_SIZE = 64L << 20;

    @Param({"4096", "131072"})
    public int size;

    private Path dir;
    private UnionFs fs;
    private long lowerFh;
    private long upperFh;
    private long writeFh;
    private Pointer buffer;
    private long address;
    private byte[] heap;
    private long readAt;
    private long writeAt;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("rw");
        List<Path> lowers = LayerFixture.in(dir.resolve("lowers")).layer("base")
                .fileOfSize("data/lower.bin", FILE_SIZE, 0644).layers();
        Path upper = LayerFixture.in(dir).layer("upper")
                .fileOfSize("data/upper.bin", FILE_SIZE, 0644).fileOfSize("data/written.bin", FILE_SIZE, 0644)
                .path();
        Path work = Files.createDirectory(dir.resolve("work"));
        fs = UnionFs.open(new UnionConfig(lowers, upper, work));
        lowerFh = fs.open("/data/lower.bin", Sys.O_RDONLY);
        upperFh = fs.open("/data/upper.bin", Sys.O_RDONLY);
        writeFh = fs.open("/data/written.bin", Sys.O_WRONLY);
        if (fs.copyUpCount() != 0) {
            throw new IllegalStateException("opening the upper files copied something up");
        }
        buffer = Memory.allocateDirect(Runtime.getSystemRuntime(), size);
        address = buffer.address();
        heap = new byte[size];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.release(lowerFh);
        fs.release(upperFh);
        fs.release(writeFh);
        fs.close();
        BenchDirs.delete(dir);
    }

    private long nextRead() {
        long at = readAt;
        readAt = (at + size) % FILE_SIZE;
        return at;
    }

    @Benchmark
    public int readLower() throws SysException {
        return fs.read(lowerFh, address, size, nextRead());
    }

    @Benchmark
    public int readUpper() throws SysException {
        return fs.read(upperFh, address, size, nextRead());
    }

    @Benchmark
    public int readLowerHeapArray() throws SysException {
        return fs.read(lowerFh, heap, size, nextRead());
    }

    @Benchmark
    public int write() throws SysException {
        long at = writeAt;
        writeAt = (at + size) % FILE_SIZE;
        return fs.write(writeFh, address, size, at);
    }
}
