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

/**
 * Copy-up of a lower file of {@code sizeMiB} MiB, triggered as a writer triggers it: open for
 * write, then close. Before each call the upper and workdir are emptied and the union reopened
 * (not timed), so every call copies. The lower file stays in the page cache.
 * {@code durable=true} is the default mount (the copy is fsynced before it is renamed into place);
 * {@code durable=false} is {@code -o volatile}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CopyUpBench {
    @Param({"1", "100"})
    public int sizeMiB;

    @Param({"true", "false"})
    public boolean durable;

    private Path dir;
    private List<Path> lowers;
    private Path upper;
    private Path work;
    private UnionFs fs;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("copyup");
        lowers = LayerFixture.in(dir.resolve("lowers")).layer("base")
                .fileOfSize("data/file.bin", (long) sizeMiB << 20, 0644).layers();
        upper = Files.createDirectory(dir.resolve("upper"));
        work = Files.createDirectory(dir.resolve("work"));
        reopen();
        copyUp();
        if (fs.copyUpCount() < 1 || Files.size(upper.resolve("data/file.bin")) != (long) sizeMiB << 20) {
            throw new IllegalStateException("open for write did not copy data/file.bin (and data/) up");
        }
    }

    /** A fresh union over an empty upper: the next open for write copies up again. */
    @Setup(Level.Invocation)
    public void reopen() throws IOException {
        if (fs != null) {
            fs.close();
        }
        BenchDirs.clear(upper);
        BenchDirs.clear(work);
        fs = UnionFs.open(new UnionConfig(lowers, upper, work, !durable));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.close();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public long copyUp() throws SysException {
        long fh = fs.open("/data/file.bin", Sys.O_WRONLY);
        fs.release(fh);
        return fh;
    }
}
