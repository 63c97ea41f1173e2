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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.DirItem;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * The merged listing (opendir and the first readdir: the snapshot later readdirs serve) of a
 * directory showing 10,000 names from 5 layers, in-process:
 *
 * <pre>
 *   l0 (bottom)  big/ f0-0 .. f0-1999
 *   lk, k=1..4   big/ fk-0 .. fk-1999        2,000 new names
 *                     f(k-1)-0 .. f(k-1)-199  200 overriding files (shown once)
 *                     f(k-1)-1900 .. -1999    100 char 0/0 whiteouts of names below
 *                     gk-0 .. gk-99           100 more new names
 * </pre>
 * 5 x 2,000 + 4 x 100 - 4 x 100 = 10,000 names; 12,000 directory entries are read in all.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ReaddirBench {
    static final int VISIBLE = 10_000;

    private Path dir;
    private UnionFs fs;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("readdir");
        fs = UnionFs.open(new UnionConfig(bigDirectory(dir), null, null));
        int n = fs.list("/big").size();
        if (n != VISIBLE) {
            throw new IllegalStateException("merged listing has " + n + " names, expected " + VISIBLE);
        }
    }

    /** The five layers drawn in the class comment, highest first. */
    static List<Path> bigDirectory(Path base) {
        LayerFixture f = LayerFixture.in(base);
        LayerFixture.Layer l = null;
        for (int k = 0; k < 5; k++) {
            l = f.layer("l" + k).dir("big");
            for (int i = 0; i < 2000; i++) {
                l.file("big/f" + k + "-" + i, "x");
            }
            if (k > 0) {
                for (int i = 0; i < 200; i++) {
                    l.file("big/f" + (k - 1) + "-" + i, "override");
                }
                for (int i = 1900; i < 2000; i++) {
                    l.whiteout("big/f" + (k - 1) + "-" + i);
                }
                for (int i = 0; i < 100; i++) {
                    l.file("big/g" + k + "-" + i, "x");
                }
            }
        }
        return l.layers();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.close();
        BenchDirs.delete(dir);
    }

    /** opendir + readdir + releasedir: what one listing of the directory through FUSE asks of the engine. */
    @Benchmark
    public List<DirItem> list10k() throws SysException {
        return fs.list("/big");
    }
}
