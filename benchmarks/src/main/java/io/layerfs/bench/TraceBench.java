package io.layerfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.Caller;
import io.layerfs.union.JsonLinesTrace;
import io.layerfs.union.Trace;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * What {@code layerfs mount --trace} costs on the engine's hot paths, and what it costs when off.
 * One writable stack: the 8 lowers of {@link LookupBench}'s fixture under an upper holding w/f.
 * {@code trace}:
 * <ul>
 *   <li>{@code off}: {@link Trace#OFF}, what every mount without --trace runs with;</li>
 *   <li>{@code discard}: a Trace whose methods do nothing, asking for no lookups: the engine makes
 *       every trace call (whiteouts, copy-ups) and pays only the calls;</li>
 *   <li>{@code discard-lookups}: the same, asking for lookups: getattr also names the layer that
 *       answered;</li>
 *   <li>{@code jsonl} and {@code jsonl-lookups}: the real {@link JsonLinesTrace}, to /dev/null
 *       (formatting and write(2) paid, no disk).</li>
 * </ul>
 * "Off costs nothing" means off ≈ discard on every operation: the only code a mount without --trace
 * runs is a final-field test in getattr and calls of empty methods where the layers change.
 *
 * <p>Operations: {@code getattrWarm} (/d/top, lookup cached), {@code getattrCold} (its cached
 * lookup forgotten first: the walk through 9 layers), {@code createUnlink} (create, close and
 * unlink of /d/bottom, deleted from the lower at setup: create replaces a whiteout and unlink
 * writes one, which is traced), {@code openWrite} (open the upper file w/f, write 4 KiB, close:
 * no copy-up).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TraceBench {
    private static final int DEPTH = 8;
    private static final int CREATE = Sys.O_CREAT | Sys.O_WRONLY | Sys.O_EXCL;

    @Param({"off", "discard", "discard-lookups", "jsonl", "jsonl-lookups"})
    public String trace;

    private Path dir;
    private UnionFs fs;
    private JsonLinesTrace jsonl;
    /** Copy-ups of the setup (d, to whiteout d/bottom); the benchmarks must add none. */
    private long setUpCopyUps;
    private final byte[] block = new byte[4096];

    /** Discards everything; a class of its own, so the engine's calls go where a real sink's would. */
    static final class Discard implements Trace {
        private final boolean lookups;

        Discard(boolean lookups) {
            this.lookups = lookups;
        }

        @Override
        public boolean lookups() {
            return lookups;
        }

        @Override
        public void copyUp(String path, String fromLayer, String type, long bytes, String method) {
        }

        @Override
        public void whiteout(String path) {
        }

        @Override
        public void opaque(String path, String why) {
        }

        @Override
        public void lookup(String path, String layer) {
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("trace-" + trace);
        Path upper = Files.createDirectories(dir.resolve("upper/w"));
        Files.write(upper.resolve("f"), new byte[64 * 1024]);
        Path work = Files.createDirectory(dir.resolve("work"));
        UnionConfig config = new UnionConfig(LookupBench.deepStack(dir.resolve("lowers"), DEPTH),
                dir.resolve("upper"), work);
        switch (trace) {
            case "off":
                fs = UnionFs.open(config);
                break;
            case "discard":
            case "discard-lookups":
                fs = UnionFs.open(config, new Discard(trace.endsWith("-lookups")));
                break;
            case "jsonl":
            case "jsonl-lookups":
                jsonl = new JsonLinesTrace(Path.of("/dev/null"), trace.endsWith("-lookups"));
                fs = UnionFs.open(config, jsonl);
                break;
            default:
                throw new IllegalArgumentException("unknown trace " + trace);
        }
        fs.unlink("/d/bottom");
        setUpCopyUps = fs.copyUpCount();
        if (fs.getattr("/d/top").size != 1) {
            throw new IllegalStateException("fixture does not show what TraceBench expects");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        long copied = fs.copyUpCount() - setUpCopyUps;
        fs.close();
        if (jsonl != null) {
            jsonl.close();
        }
        BenchDirs.delete(dir);
        if (copied != 0) {
            throw new IllegalStateException("TraceBench copied " + copied + " objects up; no benchmark should");
        }
    }

    @Benchmark
    public Stat getattrWarm() throws SysException {
        return fs.getattr("/d/top");
    }

    @Benchmark
    public Stat getattrCold() throws SysException {
        fs.forgetLookup("/d/top");
        return fs.getattr("/d/top");
    }

    @Benchmark
    public void createUnlink() throws SysException {
        fs.release(fs.create("/d/bottom", 0644, CREATE, Caller.ROOT));
        fs.unlink("/d/bottom");
    }

    @Benchmark
    public int openWrite() throws SysException {
        long fh = fs.open("/w/f", Sys.O_WRONLY);
        try {
            return fs.write(fh, block, block.length, 0);
        } finally {
            fs.release(fh);
        }
    }
}
