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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.Caller;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * create + close + unlink of one file, in-process. {@code upperOnly}: in a directory of the upper
 * that no lower has (no whiteout needed). {@code overWhiteout}: the name exists in the lower and
 * has been deleted, so create replaces a whiteout (built in the workdir, renamed over it) and
 * unlink writes the whiteout again.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CreateUnlinkBench {
    private static final int FLAGS = Sys.O_CREAT | Sys.O_WRONLY | Sys.O_EXCL;

    private Path dir;
    private UnionFs fs;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("create");
        List<Path> lowers = LayerFixture.in(dir.resolve("lowers")).layer("base").file("low/f", "lower").layers();
        Path upper = Files.createDirectory(dir.resolve("upper"));
        Path work = Files.createDirectory(dir.resolve("work"));
        fs = UnionFs.open(new UnionConfig(lowers, upper, work));
        fs.mkdir("/new", 0755, Caller.ROOT);
        fs.unlink("/low/f");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.close();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public void upperOnly() throws SysException {
        fs.release(fs.create("/new/f", 0644, FLAGS, Caller.ROOT));
        fs.unlink("/new/f");
    }

    @Benchmark
    public void overWhiteout() throws SysException {
        fs.release(fs.create("/low/f", 0644, FLAGS, Caller.ROOT));
        fs.unlink("/low/f");
    }
}
