package io.layerfs.bench;

import java.io.IOException;
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

import io.layerfs.sys.Stat;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * getattr of one name through a read-only stack of {@code depth} lower layers, in-process.
 *
 * <pre>
 *   l(depth-1)  top layer     d/  top  filler-(depth-1)
 *   ...                       d/  filler-i
 *   l1                        d/  gone (char 0/0 whiteout)  filler-1
 *   l0          bottom layer  d/  bottom  gone  filler-0
 * </pre>
 * Every layer holds d/, so d is a directory merged over all of them and a name in d is looked
 * for in every layer. At depth 1 the single layer holds top, bottom and the whiteout gone.
 * {@code hitTop}: /d/top, found in the first layer looked at; {@code hitBottom}: /d/bottom, in the
 * last; {@code miss}: /d/missing, in none (every layer is asked for the name and its .wh. form);
 * {@code whiteout}: /d/gone, hidden by the whiteout just above the bottom layer (the deepest place
 * a whiteout can be: the most layers to pass first); {@code mergedDir}: /d itself, a directory
 * whose opacity is checked in every layer.
 *
 * <p>{@code cache=warm}: the engine's lookup cache holds the path (what a repeated getattr costs:
 * a hash lookup and one lstat). {@code cache=cold}: the cached lookup of that one path (not of its
 * parent) is forgotten before each call ({@link UnionFs#forgetLookup}, which takes the engine's
 * write lock), so the call pays the walk through the layers, as a FUSE
 * LOOKUP of a new name does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LookupBench {
    @Param({"1", "8", "32", "128"})
    public int depth;

    @Param({"warm", "cold"})
    public String cache;

    private Path dir;
    private UnionFs fs;
    private boolean cold;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = BenchDirs.create("lookup" + depth);
        fs = UnionFs.open(new UnionConfig(deepStack(dir, depth), null, null));
        cold = "cold".equals(cache);
        check();
    }

    /** The stack drawn in the class comment. */
    static List<Path> deepStack(Path base, int depth) {
        LayerFixture f = LayerFixture.in(base);
        LayerFixture.Layer l = f.layer("l0").dir("d").file("d/filler-0", "0").file("d/bottom", "b");
        if (depth == 1) {
            return l.file("d/top", "t").whiteout("d/gone").layers();
        }
        l.file("d/gone", "g");
        for (int i = 1; i < depth; i++) {
            l = f.layer("l" + i).dir("d").file("d/filler-" + i, Integer.toString(i));
            if (i == 1) {
                l.whiteout("d/gone");
            }
        }
        return l.file("d/top", "t").layers();
    }

    private void check() {
        try {
            if (fs.getattr("/d/top").size != 1 || fs.getattr("/d/bottom").size != 1 || !fs.getattr("/d").isDirectory()
                    || errno("/d/missing") == 0 || errno("/d/gone") == 0) {
                throw new IllegalStateException("fixture does not show what LookupBench expects");
            }
        } catch (SysException e) {
            throw new IllegalStateException(e);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.close();
        BenchDirs.delete(dir);
    }

    private Stat getattr(String path) throws SysException {
        if (cold) {
            fs.forgetLookup(path);
        }
        return fs.getattr(path);
    }

    /** 0 or the errno getattr fails with (the miss path builds and catches a SysException, as FUSE's does). */
    private int errno(String path) {
        try {
            getattr(path);
            return 0;
        } catch (SysException e) {
            return e.errno();
        }
    }

    @Benchmark
    public Stat hitTop() throws SysException {
        return getattr("/d/top");
    }

    @Benchmark
    public Stat hitBottom() throws SysException {
        return getattr("/d/bottom");
    }

    @Benchmark
    public int miss() {
        return errno("/d/missing");
    }

    @Benchmark
    public int whiteout() {
        return errno("/d/gone");
    }

    @Benchmark
    public Stat mergedDir() throws SysException {
        return getattr("/d");
    }
}
