package io.layerfs.fuse;

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

import io.layerfs.bench.BenchDirs;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The binding's own cost on the data path: read of {@code size} bytes from a lower file and write
 * of {@code size} bytes to an upper file, through the adapter's native entry points
 * ({@link NativeCallbacks}: upcall, path decoding, FuseFileInfo wrapper, pread/pwrite into the
 * native buffer) against the engine's call with the same buffer address. Offsets walk a 16 MiB
 * file, so reads come from the page cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AdapterIoBench {
    private static final long FILE_SIZE = 16L << 20;

    @Param({"4096", "131072"})
    public int size;

    private Path dir;
    private UnionFs fs;
    private NativeCallbacks callbacks;
    private Pointer readName;
    private Pointer writeName;
    private Pointer buffer;
    private Pointer readInfo;
    private Pointer writeInfo;
    private long readFh;
    private long writeFh;
    private long readAt;
    private long writeAt;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("adapter-io");
        List<Path> lowers = LayerFixture.in(dir.resolve("lowers")).layer("base")
                .fileOfSize("data.bin", FILE_SIZE, 0644).layers();
        Path upper = LayerFixture.in(dir).layer("upper").fileOfSize("w.bin", FILE_SIZE, 0644).path();
        Path work = Files.createDirectory(dir.resolve("work"));
        fs = UnionFs.open(new UnionConfig(lowers, upper, work));
        callbacks = new NativeCallbacks(new FuseAdapter(fs, () -> { }));
        readName = NativeCallbacks.cString("/data.bin");
        writeName = NativeCallbacks.cString("/w.bin");
        Runtime rt = Runtime.getSystemRuntime();
        buffer = Memory.allocateDirect(rt, size, true);
        readFh = fs.open("/data.bin", Sys.O_RDONLY);
        writeFh = fs.open("/w.bin", Sys.O_WRONLY);
        readInfo = Memory.allocateDirect(rt, 128, true);
        FuseFileInfo.of(readInfo).fh.set(readFh);
        writeInfo = Memory.allocateDirect(rt, 128, true);
        FuseFileInfo.of(writeInfo).fh.set(writeFh);
        if (nativeRead() != size || nativeWrite() != size) {
            throw new IllegalStateException("native read or write did not move " + size + " bytes");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.release(readFh);
        fs.release(writeFh);
        fs.close();
        BenchDirs.delete(dir);
    }

    private long nextRead() {
        long at = readAt;
        readAt = (at + size) % FILE_SIZE;
        return at;
    }

    private long nextWrite() {
        long at = writeAt;
        writeAt = (at + size) % FILE_SIZE;
        return at;
    }

    @Benchmark
    public int nativeRead() {
        return callbacks.read(readName.address(), buffer.address(), size, nextRead(), readInfo.address());
    }

    @Benchmark
    public int engineRead() throws SysException {
        return fs.read(readFh, buffer.address(), size, nextRead());
    }

    @Benchmark
    public int nativeWrite() {
        return callbacks.write(writeName.address(), buffer.address(), size, nextWrite(), writeInfo.address());
    }

    @Benchmark
    public int engineWrite() throws SysException {
        return fs.write(writeFh, buffer.address(), size, nextWrite());
    }
}
