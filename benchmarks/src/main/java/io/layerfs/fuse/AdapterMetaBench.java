package io.layerfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.layerfs.bench.BenchDirs;
import io.layerfs.bench.EngineCalls;
import io.layerfs.sys.Stat;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The binding's own cost for metadata calls: each {@code native*} benchmark calls the FUSE
 * adapter's callback through jnr-fuse's native entry point ({@link NativeCallbacks}), each
 * {@code engine*} one makes the same engine call directly; the difference is the binding.
 * One lower layer: {@code /f} (a file) and {@code /many/} (10,000 files). Lookups are in the
 * engine's cache (warm), so the engine's part is one lstat.
 *
 * <ul>
 *   <li>getattr of /f: upcall, path decoding, FileStat wrapper per call, 15 field stores;
 *   <li>getattr of /nothing: the same ending in an errno (exception to errno mapping);
 *   <li>readdir of /many (10,000 names, one reply's worth of calls as libfuse 2 asks for the whole
 *       listing at offset 0): one native filler call per name, with the name encoded to a fresh
 *       NUL-terminated array; {@code adapterReaddirJavaFiller} is the same with a Java filler
 *       (no Java-to-native call per name), {@code engineReaddir} the snapshot alone.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AdapterMetaBench {
    private static final int NAMES = 10_000;

    private Path dir;
    private UnionFs fs;
    private FuseAdapter adapter;
    private NativeCallbacks callbacks;
    private Pointer fileName;
    private Pointer missingName;
    private Pointer dirName;
    private Pointer statBuf;
    private FileStat fileStat;
    private Pointer fileInfo;
    private FuseFileInfo fi;
    private long dirHandle;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("adapter-meta");
        LayerFixture.Layer base = LayerFixture.in(dir).layer("base").file("f", "data");
        for (int i = 0; i < NAMES; i++) {
            base.file("many/name-" + i, "");
        }
        fs = UnionFs.open(new UnionConfig(List.of(base.path()), null, null));
        adapter = new FuseAdapter(fs, () -> { });
        callbacks = new NativeCallbacks(adapter);
        fileName = NativeCallbacks.cString("/f");
        missingName = NativeCallbacks.cString("/nothing");
        dirName = NativeCallbacks.cString("/many");
        Runtime rt = Runtime.getSystemRuntime();
        statBuf = Memory.allocateDirect(rt, 256, true);
        fileStat = FileStat.of(statBuf);
        fileInfo = Memory.allocateDirect(rt, 128, true);
        fi = FuseFileInfo.of(fileInfo);
        dirHandle = fs.opendir("/many");
        fi.fh.set(dirHandle);
        check();
    }

    private void check() {
        if (callbacks.getattr(fileName.address(), statBuf.address()) != 0 || fileStat.st_size.longValue() != 4) {
            throw new IllegalStateException("native getattr of /f failed or filled the wrong size");
        }
        if (callbacks.getattr(missingName.address(), statBuf.address()) != -2) {
            throw new IllegalStateException("native getattr of /nothing did not answer -ENOENT");
        }
        int[] count = {0};
        adapter.readdir("/many", null, (buf, name, st, off) -> {
            count[0]++;
            return 0;
        }, 0, fi);
        if (count[0] != NAMES + 2) {
            throw new IllegalStateException("readdir gave " + count[0] + " entries, expected " + (NAMES + 2));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.releasedir(dirHandle);
        fs.close();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public int nativeGetattrHit() {
        return callbacks.getattr(fileName.address(), statBuf.address());
    }

    @Benchmark
    public Stat engineGetattrHit() throws SysException {
        return fs.getattr("/f");
    }

    @Benchmark
    public int nativeGetattrMiss() {
        return callbacks.getattr(missingName.address(), statBuf.address());
    }

    @Benchmark
    public int engineGetattrMiss() {
        return EngineCalls.getattrErrno(fs, "/nothing");
    }

    /** getattr with the FileStat wrapper made once, as a binding with preallocated structs would. */
    @Benchmark
    public int adapterGetattrReusedStat() {
        return adapter.getattr("/f", fileStat);
    }

    @Benchmark
    public int nativeReaddir10k() {
        return callbacks.readdir(dirName.address(), 0, callbacks.filler, 0, fileInfo.address());
    }

    @Benchmark
    public int adapterReaddirJavaFiller() {
        return adapter.readdir("/many", null, (buf, name, st, off) -> name.remaining() == 0 ? 1 : 0, 0, fi);
    }

    @Benchmark
    public int engineReaddir() throws SysException {
        return fs.readdir(dirHandle, "/many").size();
    }
}
