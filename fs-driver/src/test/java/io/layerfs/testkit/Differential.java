package io.layerfs.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiPredicate;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Runs the same operation sequence on two unions over identical lowers and compares them: the errno
 * of every operation, the tree every {@link #checkEvery} operations and at the end, and that neither
 * union changed its lowers. Union A is the reference (kernel overlayfs), B the one under test.
 *
 * <p>One run, in {@code workBase/<label>/}:
 * <pre>
 *   a/lowers/lower0..n   b/lowers/lower0..n    built twice by the same deterministic builder
 *   a/upper a/work a/mnt b/upper b/work b/mnt   A and B mounted, ops applied A then B, one at a time
 * </pre>
 * The run directory is deleted afterwards unless the run failed and {@link #keepFailedRuns} is set;
 * it is never deleted while anything is still mounted under it.
 *
 * <p>Known, intended difference: kernel overlayfs (without redirect_dir) refuses to rename a lower or
 * merged directory with EXDEV, where layerfs renames it. When A says EXDEV for the rename of a
 * directory and B does not, A's side does what mv(1) does instead ({@link Ops#moveByCopy}) and that
 * result is compared, so the trees stay comparable. nlink is not compared; mtimes are compared when
 * they are explicit (before {@link #MTIME_CUTOFF}), i.e. copied from a lower or set by utimes.
 */
public final class Differential {
    /** Fixture and utimes times are all before this; later mtimes are clock times and not compared. */
    public static final long MTIME_CUTOFF = 1_600_000_000L;

    /** Builds the lowers of one side under base; called once per side and must be deterministic. */
    @FunctionalInterface
    public interface LowersBuilder {
        List<Path> build(Path base) throws IOException;
    }

    /** The operations of a run, given side A's lowers (highest first). */
    @FunctionalInterface
    public interface OpsBuilder {
        List<Op> ops(List<Path> lowers) throws IOException;
    }

    private static final Sys SYS = Sys.get();

    private final Path workBase;
    private final String nameA;
    private final UnionMounter mounterA;
    private final String nameB;
    private final UnionMounter mounterB;
    private int checkEvery = 10;
    private BiPredicate<Integer, Op> skipOnB = (i, op) -> false;
    private boolean keepFailedRuns;
    private int runs;

    public Differential(Path workBase, String nameA, UnionMounter a, String nameB, UnionMounter b) {
        this.workBase = workBase.toAbsolutePath();
        this.nameA = nameA;
        this.mounterA = a;
        this.nameB = nameB;
        this.mounterB = b;
    }

    /** Compare the trees after every n operations (and always at the end). Default 10. */
    public Differential checkEvery(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("checkEvery " + n);
        }
        this.checkEvery = n;
        return this;
    }

    /**
     * For the harness's own tests: operations matching the predicate (index, op) are not applied to
     * B and count as succeeded there. A harness that still passes is blind.
     */
    public Differential skipOnB(BiPredicate<Integer, Op> predicate) {
        this.skipOnB = predicate;
        return this;
    }

    /** Keep the directories of failed runs for inspection (they are reported in the outcome). */
    public Differential keepFailedRuns(boolean keep) {
        this.keepFailedRuns = keep;
        return this;
    }

    /** The number of lowers (1-4) and of operations (30-60) of a seeded run, drawn from the seed. */
    public static int[] shape(long seed) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 1);
        return new int[] {1 + r.nextInt(4), 30 + r.nextInt(31)};
    }

    /** A run on {@link LayerFixture#randomLowers} and {@link Ops#generate} from seed. */
    public Outcome run(long seed) throws Exception {
        int[] shape = shape(seed);
        return run("seed-" + seed, base -> LayerFixture.in(base).randomLowers(seed, shape[0]),
                lowers -> Ops.generate(seed, shape[1], Ops.Names.fromLayers(lowers)));
    }

    /** A run on explicit lowers and operations (label names the run directory and the report). */
    public Outcome run(String label, LowersBuilder lowersBuilder, OpsBuilder opsBuilder) throws Exception {
        Path dir = workBase.resolve(label.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + (runs++));
        Side a = new Side(nameA, mounterA, dir.resolve("a"));
        Side b = new Side(nameB, mounterB, dir.resolve("b"));
        Outcome out = new Outcome(label, nameA, nameB, dir);
        a.lowers = lowersBuilder.build(a.dir.resolve("lowers"));
        b.lowers = lowersBuilder.build(b.dir.resolve("lowers"));
        checkSameLayers(label, a.lowers, b.lowers);
        List<TreeSnapshot> lowersA = snapshotLayers(a.lowers);
        List<TreeSnapshot> lowersB = snapshotLayers(b.lowers);
        out.lowers = a.lowers;
        out.lowerListing = lowersA;
        List<Op> ops = opsBuilder.ops(a.lowers);
        out.ops = ops;
        for (Side s : List.of(a, b)) {
            Files.createDirectories(s.upper());
            Files.createDirectories(s.work());
            Files.createDirectories(s.mnt());
        }
        try {
            a.mount = a.mounter.mount(a.lowers, a.upper(), a.work(), a.mnt());
            b.mount = b.mounter.mount(b.lowers, b.upper(), b.work(), b.mnt());
            applyAll(ops, a, b, out);
        } finally {
            unmount(b, out);
            unmount(a, out);
        }
        compareLowers(a, lowersA, out);
        compareLowers(b, lowersB, out);
        if (out.passed() || !keepFailedRuns) {
            Mounts.deleteTree(dir);
        }
        return out;
    }

    private void applyAll(List<Op> ops, Side a, Side b, Outcome out) throws IOException {
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            int ra = Ops.apply(a.mnt(), op);
            boolean skipped = skipOnB.test(i, op);
            int rb = skipped ? 0 : Ops.apply(b.mnt(), op);
            String resultA = errnoName(ra);
            if (ra == Errno.EXDEV && rb != Errno.EXDEV && op.kind() == Op.Kind.RENAME && isDirectory(a.mnt(), op.path())) {
                ra = Ops.moveByCopy(a.mnt(), op.path(), op.path2());
                resultA = "EXDEV, as mv: " + errnoName(ra);
                out.moveFallbacks++;
            }
            out.resultsA.add(ra);
            out.log.add(String.format("%3d %-58s %s=%s %s=%s%s", i, op, nameA, resultA, nameB, errnoName(rb),
                    skipped ? " (skipped on " + nameB + ")" : ""));
            if (ra != rb) {
                out.problems.add("op " + i + " (" + op + "): " + nameA + " says " + errnoName(ra) + ", " + nameB
                        + " says " + errnoName(rb));
                out.failedAt = i;
                compareTrees(a, b, out, "after op " + i);
                return;
            }
            if ((i + 1) % checkEvery == 0 || i == ops.size() - 1) {
                if (!compareTrees(a, b, out, "after op " + i)) {
                    out.failedAt = i;
                    return;
                }
            }
        }
        if (ops.isEmpty()) {
            compareTrees(a, b, out, "with no ops");
        }
    }

    private boolean compareTrees(Side a, Side b, Outcome out, String when) throws IOException {
        // libfuse 2's path-based API gives each name of a hard-linked file its own kernel inode, whose
        // cached attributes lag a change made through another name by up to attr_timeout (a known,
        // documented limit of the binding; data is never stale). Dropping the kernel's dentries and
        // inodes compares what the union holds, not what the kernel still remembers.
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
        TreeSnapshot.Options options = TreeSnapshot.Options.defaults().mtimesBefore(MTIME_CUTOFF);
        TreeSnapshot ta = TreeSnapshot.of(a.mnt(), options);
        TreeSnapshot tb = TreeSnapshot.of(b.mnt(), options);
        List<String> diff = TreeSnapshot.diff(nameA, ta, nameB, tb);
        if (diff.isEmpty()) {
            return true;
        }
        out.problems.add("trees differ " + when + ":\n    " + String.join("\n    ", diff));
        return false;
    }

    private void compareLowers(Side side, List<TreeSnapshot> before, Outcome out) throws IOException {
        List<TreeSnapshot> after = snapshotLayers(side.lowers);
        for (int i = 0; i < before.size(); i++) {
            List<String> diff = TreeSnapshot.diff("before", before.get(i), "after", after.get(i));
            if (!diff.isEmpty()) {
                out.problems.add(side.name + " changed its lower " + side.lowers.get(i).getFileName() + ":\n    "
                        + String.join("\n    ", diff));
            }
        }
    }

    /** Both sides must start from the same layers (clock-time mtimes aside: a hand-written fixture has them). */
    private static void checkSameLayers(String label, List<Path> a, List<Path> b) throws IOException {
        TreeSnapshot.Options options = TreeSnapshot.Options.defaults().withNlink(true).mtimesBefore(MTIME_CUTOFF);
        if (a.size() != b.size()) {
            throw new IllegalStateException(label + ": the lowers builder made " + a.size() + " and " + b.size() + " layers");
        }
        for (int i = 0; i < a.size(); i++) {
            List<String> diff = TreeSnapshot.diff("A", TreeSnapshot.of(a.get(i), options), "B", TreeSnapshot.of(b.get(i), options));
            if (!diff.isEmpty()) {
                throw new IllegalStateException(label + ": the lowers builder is not deterministic: " + diff);
            }
        }
    }

    private static List<TreeSnapshot> snapshotLayers(List<Path> layers) throws IOException {
        List<TreeSnapshot> out = new ArrayList<>();
        for (Path p : layers) {
            out.add(TreeSnapshot.of(p, TreeSnapshot.Options.defaults().withAllMtimes().withNlink(true)));
        }
        return out;
    }

    private static void unmount(Side side, Outcome out) {
        if (side.mount == null) {
            return;
        }
        try {
            side.mount.close();
            if (Mounts.isMounted(side.mnt())) {
                out.problems.add(side.name + ": still mounted at " + side.mnt() + " after close");
            }
        } catch (Exception e) {
            out.problems.add(side.name + ": unmount failed: " + e);
        }
    }

    private static boolean isDirectory(Path root, String rel) {
        try {
            Stat st = SYS.lstatOrNull(Sys.AT_FDCWD, root.toAbsolutePath() + "/" + rel);
            return st != null && st.isDirectory();
        } catch (SysException e) {
            return false;
        }
    }

    /** "0" for success, else the errno's symbolic name. */
    public static String errnoName(int errno) {
        switch (errno) {
            case 0: return "0";
            case 6: return "ENXIO";
            case 26: return "ETXTBSY";
            case 27: return "EFBIG";
            case 95: return "EOPNOTSUPP";
            default: return Errno.name(errno);
        }
    }

    private static final class Side {
        final String name;
        final UnionMounter mounter;
        final Path dir;
        List<Path> lowers;
        AutoCloseable mount;

        Side(String name, UnionMounter mounter, Path dir) {
            this.name = name;
            this.mounter = mounter;
            this.dir = dir;
        }

        Path upper() {
            return dir.resolve("upper");
        }

        Path work() {
            return dir.resolve("work");
        }

        Path mnt() {
            return dir.resolve("mnt");
        }
    }

    /** The result of one run: passed, or the problems found with everything needed to understand them. */
    public static final class Outcome {
        private static final int MAX_LISTING_LINES = 300;

        private final String label;
        private final String nameA;
        private final String nameB;
        private final Path dir;
        private final List<String> problems = new ArrayList<>();
        private final List<String> log = new ArrayList<>();
        private final List<Integer> resultsA = new ArrayList<>();
        private List<Op> ops = List.of();
        private List<Path> lowers = List.of();
        private List<TreeSnapshot> lowerListing = List.of();
        private int failedAt = -1;
        private int moveFallbacks;

        Outcome(String label, String nameA, String nameB, Path dir) {
            this.label = label;
            this.nameA = nameA;
            this.nameB = nameB;
            this.dir = dir;
        }

        public boolean passed() {
            return problems.isEmpty();
        }

        public String label() {
            return label;
        }

        public List<String> problems() {
            return List.copyOf(problems);
        }

        public List<Op> ops() {
            return ops;
        }

        /** Index of the operation after which the first difference was seen, or -1. */
        public int failedAt() {
            return failedAt;
        }

        /** A's result (0 or errno) of each operation applied, in order. */
        public List<Integer> resultsA() {
            return List.copyOf(resultsA);
        }

        /** How many directory renames A did as mv(1) after EXDEV. */
        public int moveFallbacks() {
            return moveFallbacks;
        }

        /**
         * The whole story: the problems, every operation applied with both results (the failing one
         * marked), the full op list when the run stopped early, and the lowers' contents.
         */
        public String report() {
            StringBuilder b = new StringBuilder();
            b.append("differential run ").append(label).append(": ").append(nameA).append(" vs ").append(nameB)
                    .append(passed() ? ": passed" : ": FAILED").append('\n');
            if (!passed()) {
                b.append("run directory: ").append(dir).append('\n');
            }
            for (String p : problems) {
                b.append("  * ").append(p).append('\n');
            }
            b.append("operations applied (").append(log.size()).append(" of ").append(ops.size()).append("):\n");
            for (int i = 0; i < log.size(); i++) {
                b.append("  ").append(log.get(i)).append(i == failedAt ? "   <--" : "").append('\n');
            }
            if (log.size() < ops.size()) {
                b.append("operations not applied:\n");
                for (int i = log.size(); i < ops.size(); i++) {
                    b.append(String.format("  %3d %s%n", i, ops.get(i)));
                }
            }
            b.append("lowers (highest first):\n");
            int lines = 0;
            for (int i = 0; i < lowerListing.size(); i++) {
                b.append("  ").append(lowers.get(i).getFileName()).append(":\n");
                for (String line : lowerListing.get(i).toString().split("\n")) {
                    if (lines++ == MAX_LISTING_LINES) {
                        b.append("    ...\n");
                    }
                    if (lines <= MAX_LISTING_LINES) {
                        b.append("    ").append(line).append('\n');
                    }
                }
            }
            return b.toString();
        }

        @Override
        public String toString() {
            return label + (passed() ? " passed" : " FAILED: " + problems.get(0));
        }
    }
}
