package io.layerfs.fuse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.union.DirItem;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * The default binding's own cost: each {@code dev*} benchmark hands a request, laid out in its
 * buffer as the kernel writes it to /dev/fuse, to {@link DevFuseOps#handle} (request parsing, the
 * node table, the engine call, the reply written into the reply buffer); each {@code engine*} one
 * makes the same engine calls directly. The difference is the binding, without the read and
 * write of /dev/fuse (two system calls per request, the same in any binding).
 *
 * <p>One lower layer: {@code /f} (4 bytes), {@code /big} (1 MiB) and {@code /many/} (10,000
 * empty files). The engine's lookups are cached (warm), so a hit costs one lstat.
 * <ul>
 *   <li>lookup of f and of a missing name (a negative entry, the engine's ENOENT on the way);
 *   <li>getattr of f;
 *   <li>read of 4 KiB and of 128 KiB of big, into the reply buffer: through the handle an OPEN gave
 *       ({@code -o no_open=0}), and ({@code devNoOpenRead*}) as the kernel sends them by default,
 *       naming only the node, whose layer file the binding keeps open ({@link NodeFiles});
 *   <li>readdirplus of many: every reply of 4 KiB the kernel asks for, to the end, each name with
 *       its attributes and node (as {@code ls -l} lists it), against the engine's listing and a
 *       getattr of each name.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DevFuseBench {
    private static final int NAMES = 10_000;
    private static final long ROOT = 1;
    private static final int READDIR_SIZE = 4096;
    private static final int ENTRY_OUT = 128;
    private static final int ATTR_OUT = 104;
    private static final int OUT = DevFuseOps.OUT_HEADER;

    private Path dir;
    private UnionFs fs;
    private DevFuseOps ops;
    private long fNode;
    private long bigFh;
    private long dirFh;
    private long manyNode;
    private final DevFuseOps.Buffers lookupHit = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers lookupMiss = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers getattr = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers read4k = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers read128k = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers readdir = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers setup = new DevFuseOps.Buffers();
    /** The binding after an INIT that offered FUSE_NO_OPEN_SUPPORT: READ names only the node. */
    private DevFuseOps noOpen;
    private final DevFuseOps.Buffers noOpenRead4k = new DevFuseOps.Buffers();
    private final DevFuseOps.Buffers noOpenRead128k = new DevFuseOps.Buffers();
    private long noOpenBigNode;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SysException {
        dir = BenchDirs.create("devfuse");
        LayerFixture.Layer base = LayerFixture.in(dir).layer("base").file("f", "data")
                .file("big", new byte[1 << 20], 0644);
        for (int i = 0; i < NAMES; i++) {
            base.file("many/name-" + i, "");
        }
        fs = UnionFs.open(new UnionConfig(List.of(base.path()), null, null));
        ops = new DevFuseOps(fs, new DevFuseNodes(fs.getattr("/").ino), DevFuseOptions.parse(List.of(), true),
                () -> { });

        fNode = nodeOf(lookup(ops, setup, "f"));
        long bigNode = nodeOf(lookup(ops, setup, "big"));
        manyNode = nodeOf(lookup(ops, setup, "many"));
        bigFh = handleOf(open(setup, DevFuseOps.OPEN, bigNode));
        dirFh = handleOf(open(setup, DevFuseOps.OPENDIR, manyNode));

        lookup(ops, lookupHit, "f");
        lookup(ops, lookupMiss, "nothing");
        request(getattr, DevFuseOps.GETATTR, fNode, 16); // fuse_getattr_in: no handle
        readRequest(read4k, DevFuseOps.READ, 0, bigFh, 0, 4096);
        readRequest(read128k, DevFuseOps.READ, 0, bigFh, 0, 128 << 10);

        noOpen = new DevFuseOps(fs, new DevFuseNodes(fs.getattr("/").ino), DevFuseOptions.parse(List.of(), true),
                () -> { });
        init(noOpen, setup);
        noOpenBigNode = nodeOf(lookup(noOpen, setup, "big"));
        readRequest(noOpenRead4k, DevFuseOps.READ, noOpenBigNode, 0, 0, 4096);
        readRequest(noOpenRead128k, DevFuseOps.READ, noOpenBigNode, 0, 0, 128 << 10);
        check();
    }

    private void check() {
        if (ops.handle(lookupHit, DevFuseOps.LOOKUP, ROOT) != ENTRY_OUT || nodeOf(lookupHit) != fNode) {
            throw new IllegalStateException("LOOKUP of f did not answer f's node");
        }
        if (ops.handle(lookupMiss, DevFuseOps.LOOKUP, ROOT) != ENTRY_OUT || nodeOf(lookupMiss) != 0) {
            throw new IllegalStateException("LOOKUP of a missing name did not answer a negative entry");
        }
        if (ops.handle(getattr, DevFuseOps.GETATTR, fNode) != ATTR_OUT
                || getattr.out.getLong(OUT + 16 + 8) != 4) { // fuse_attr_out: valid (16), then ino, size
            throw new IllegalStateException("GETATTR of f did not answer its size, 4");
        }
        if (ops.handle(read128k, DevFuseOps.READ, 0) != 128 << 10) {
            throw new IllegalStateException("READ of 128 KiB did not answer 128 KiB");
        }
        request(setup, DevFuseOps.OPEN, noOpenBigNode, 8);
        if (noOpen.handle(setup, DevFuseOps.OPEN, noOpenBigNode) != -38) {
            throw new IllegalStateException("OPEN after an INIT offering FUSE_NO_OPEN_SUPPORT was not ENOSYS");
        }
        if (noOpen.handle(noOpenRead128k, DevFuseOps.READ, noOpenBigNode) != 128 << 10) {
            throw new IllegalStateException("READ of 128 KiB naming only the node did not answer 128 KiB");
        }
        int names = devReaddirplus();
        if (names != NAMES + 2) {
            throw new IllegalStateException("READDIRPLUS listed " + names + " names, expected " + (NAMES + 2));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fs.releasedir(dirFh);
        fs.release(bigFh);
        fs.close();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public int devLookupHit() {
        return ops.handle(lookupHit, DevFuseOps.LOOKUP, ROOT);
    }

    @Benchmark
    public int devLookupMiss() {
        return ops.handle(lookupMiss, DevFuseOps.LOOKUP, ROOT);
    }

    @Benchmark
    public Stat engineGetattrHit() throws SysException {
        return fs.getattr("/f");
    }

    @Benchmark
    public int engineGetattrMiss() {
        return EngineCalls.getattrErrno(fs, "/nothing");
    }

    @Benchmark
    public int devGetattr() {
        return ops.handle(getattr, DevFuseOps.GETATTR, fNode);
    }

    @Benchmark
    public int devRead4k() {
        return ops.handle(read4k, DevFuseOps.READ, 0);
    }

    @Benchmark
    public int engineRead4k() throws SysException {
        return fs.read(bigFh, read4k.outAddress + OUT, 4096, 0);
    }

    @Benchmark
    public int devRead128k() {
        return ops.handle(read128k, DevFuseOps.READ, 0);
    }

    @Benchmark
    public int devNoOpenRead4k() {
        return noOpen.handle(noOpenRead4k, DevFuseOps.READ, noOpenBigNode);
    }

    @Benchmark
    public int devNoOpenRead128k() {
        return noOpen.handle(noOpenRead128k, DevFuseOps.READ, noOpenBigNode);
    }

    @Benchmark
    public int engineRead128k() throws SysException {
        return fs.read(bigFh, read128k.outAddress + OUT, 128 << 10, 0);
    }

    /** The whole listing, 4 KiB replies from offset 0 on, as the kernel asks for it; returns the names. */
    @Benchmark
    public int devReaddirplus() {
        int names = 0;
        long offset = 0;
        while (true) {
            readRequest(readdir, DevFuseOps.READDIRPLUS, manyNode, dirFh, offset, READDIR_SIZE);
            int n = ops.handle(readdir, DevFuseOps.READDIRPLUS, manyNode);
            if (n <= 0) {
                return n < 0 ? n : names;
            }
            ByteBuffer out = readdir.out;
            for (int at = OUT; at < OUT + n; ) {
                int dirent = at + ENTRY_OUT;
                offset = out.getLong(dirent + 8);
                at = dirent + ((24 + out.getInt(dirent + 16) + 7) & ~7);
                names++;
            }
        }
    }

    @Benchmark
    public int engineReaddirGetattr() throws SysException {
        List<DirItem> items = fs.readdir(dirFh, "/many");
        int n = 0;
        for (DirItem item : items) {
            n += fs.getattr("/many/" + item.name).nlink > 0 ? 1 : 0;
        }
        return n;
    }

    // ---- requests as the kernel lays them out: fuse_in_header (40 bytes), then the op's arguments

    private static void request(DevFuseOps.Buffers b, int opcode, long node, int argsLength) {
        ByteBuffer in = b.in;
        in.clear();
        for (int i = 0; i < DevFuseOps.IN_HEADER + argsLength; i += 8) {
            in.putLong(i, 0);
        }
        in.putInt(0, DevFuseOps.IN_HEADER + argsLength);
        in.putInt(4, opcode);
        in.putLong(8, 1); // unique
        in.putLong(16, node);
        in.limit(DevFuseOps.IN_HEADER + argsLength);
    }

    /** fuse_init_in of protocol 7.38, offering FUSE_NO_OPEN_SUPPORT (and nothing else). */
    private static void init(DevFuseOps to, DevFuseOps.Buffers b) {
        request(b, DevFuseOps.INIT, 0, 64);
        b.in.putInt(DevFuseOps.IN_HEADER, 7);
        b.in.putInt(DevFuseOps.IN_HEADER + 4, 38);
        b.in.putInt(DevFuseOps.IN_HEADER + 8, 128 << 10);
        b.in.putInt(DevFuseOps.IN_HEADER + 12, 1 << 17);
        int n = to.handle(b, DevFuseOps.INIT, 0);
        if (n != 64) {
            throw new IllegalStateException("INIT answered " + n);
        }
    }

    private static DevFuseOps.Buffers lookup(DevFuseOps ops, DevFuseOps.Buffers b, String name) {
        byte[] raw = (name + "\0").getBytes(StandardCharsets.UTF_8);
        request(b, DevFuseOps.LOOKUP, ROOT, (raw.length + 7) & ~7);
        b.in.put(DevFuseOps.IN_HEADER, raw);
        b.in.limit(DevFuseOps.IN_HEADER + raw.length);
        int n = ops.handle(b, DevFuseOps.LOOKUP, ROOT);
        if (n != ENTRY_OUT) {
            throw new IllegalStateException("LOOKUP of " + name + " answered " + n);
        }
        return b;
    }

    private DevFuseOps.Buffers open(DevFuseOps.Buffers b, int opcode, long node) {
        request(b, opcode, node, 8); // fuse_open_in: flags, open_flags
        b.in.putInt(DevFuseOps.IN_HEADER, Sys.O_RDONLY);
        int n = ops.handle(b, opcode, node);
        if (n < 0) {
            throw new IllegalStateException("open answered " + n);
        }
        return b;
    }

    /** fuse_read_in: fh, offset, size, read_flags, lock_owner, flags, padding. */
    private static void readRequest(DevFuseOps.Buffers b, int opcode, long node, long fh, long offset, int size) {
        request(b, opcode, node, 40);
        b.in.putLong(DevFuseOps.IN_HEADER, fh);
        b.in.putLong(DevFuseOps.IN_HEADER + 8, offset);
        b.in.putInt(DevFuseOps.IN_HEADER + 16, size);
    }

    private static long nodeOf(DevFuseOps.Buffers b) {
        return b.out.getLong(OUT); // fuse_entry_out.nodeid
    }

    private static long handleOf(DevFuseOps.Buffers b) {
        return b.out.getLong(OUT); // fuse_open_out.fh
    }
}
