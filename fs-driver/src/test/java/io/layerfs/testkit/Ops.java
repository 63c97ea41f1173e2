package io.layerfs.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Seeded random sequences of {@link Op}s, and their application to a mounted tree.
 *
 * <p>Generation is a pure function of the seed and a {@link Names} pool: the same list is applied to
 * every union under comparison, and the seed alone reproduces it. Paths come mostly from the names
 * the lowers hold (so operations hit copy-up, whiteouts, opaque directories and type changes), some
 * from names the sequence itself created, and some are new. Symlink targets never contain ".." and
 * are never absolute, so an operation that follows one stays inside the mount.
 *
 * <p>{@link #apply} turns an op into system calls through {@link Sys} on absolute paths and returns
 * 0 or the errno of the first call that failed; it never throws for a file system error.
 */
public final class Ops {
    private static final Sys SYS = Sys.get();

    private static final String[] NEW_LEAVES = {"n1", "n2", "n3", "nd", "x", "a"};
    private static final String[] LINK_TARGETS = {"a", "b", "x", "y", "n1", "nd", "missing"};
    private static final String[] XATTR_NAMES = {"user.a", "user.b", "user.k0", "user.k1"};
    private static final int[] CREATE_MODES = {0644, 0644, 0600, 0755, 0444, 0666, 04755};
    private static final int[] MKDIR_MODES = {0755, 0755, 0700, 0777, 01777, 02775};
    private static final int[] CHMOD_MODES = {0600, 0644, 0755, 0700, 0444, 04755, 02755, 01777, 0};
    private static final int[] IDS = {0, 1000, 1234, 65534, -1};

    private Ops() {
    }

    /** The names a sequence draws from: relative paths with a rough kind ('d' dir, 'f' file, 'l' symlink, 'o' other). */
    public static final class Names {
        private final TreeMap<String, Character> kinds;

        private Names(TreeMap<String, Character> kinds) {
            this.kinds = kinds;
        }

        /**
         * Every path present in any of the layers (highest first); its kind is the one in the highest
         * layer that holds it, whiteouts included (as 'o'): operations on whited-out names are wanted.
         */
        public static Names fromLayers(List<Path> layers) throws IOException {
            TreeMap<String, Character> kinds = new TreeMap<>();
            for (Path layer : layers) {
                try {
                    collect(layer.toAbsolutePath().toString(), "", kinds);
                } catch (SysException e) {
                    throw new IOException("listing " + layer + ": " + e.getMessage(), e);
                }
            }
            return new Names(kinds);
        }

        /** A pool from explicit lists. */
        public static Names of(Collection<String> files, Collection<String> dirs) {
            TreeMap<String, Character> kinds = new TreeMap<>();
            for (String f : files) {
                kinds.put(LayerFixture.checkRelative(f), 'f');
            }
            for (String d : dirs) {
                kinds.put(LayerFixture.checkRelative(d), 'd');
            }
            return new Names(kinds);
        }

        private static void collect(String abs, String rel, TreeMap<String, Character> kinds) throws SysException {
            TreeSet<String> names = new TreeSet<>();
            for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, abs)) {
                names.add(d.name);
            }
            for (String name : names) {
                String childRel = rel.isEmpty() ? name : rel + "/" + name;
                String childAbs = abs + "/" + name;
                Stat st = SYS.lstat(Sys.AT_FDCWD, childAbs);
                char kind = st.isDirectory() ? 'd' : st.isRegular() ? 'f' : st.isSymlink() ? 'l' : 'o';
                kinds.putIfAbsent(childRel, kind);
                if (st.isDirectory()) {
                    collect(childAbs, childRel, kinds);
                }
            }
        }

        public int size() {
            return kinds.size();
        }
    }

    /** count operations drawn from seed and names. */
    public static List<Op> generate(long seed, int count, Names names) {
        return new Generator(seed, names).generate(count);
    }

    /** The bytes an op with this data seed writes. */
    public static byte[] data(long dataSeed, int length) {
        byte[] b = new byte[length];
        new SplittableRandom(dataSeed).nextBytes(b);
        return b;
    }

    /** The ops as numbered lines, for reports. */
    public static String describe(List<Op> ops) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ops.size(); i++) {
            b.append(String.format("%3d %s%n", i, ops.get(i)));
        }
        return b.toString();
    }

    private static final class Generator {
        private final SplittableRandom random;
        /** Names the lowers hold, sorted. */
        private final List<String> lowerPaths;
        /** Names created by the sequence so far, in order of creation. */
        private final List<String> created = new ArrayList<>();
        /** setxattr ops generated so far: removexattr aims at them half of the time. */
        private final List<Op> xattrsSet = new ArrayList<>();
        private final TreeMap<String, Character> kinds;

        Generator(long seed, Names names) {
            this.random = new SplittableRandom(seed);
            this.kinds = new TreeMap<>(names.kinds);
            this.lowerPaths = new ArrayList<>(names.kinds.keySet());
        }

        List<Op> generate(int count) {
            List<Op> ops = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ops.add(next());
            }
            return ops;
        }

        private Op next() {
            int roll = random.nextInt(100);
            if (roll < 9) {
                String p = random.nextInt(5) == 0 ? existing('f') : fresh();
                int len = random.nextBoolean() ? 0 : length();
                return remember(Op.create(p, pick(CREATE_MODES), len, random.nextLong()), 'f');
            } else if (roll < 20) {
                return Op.write(existing('f'), offset(), length(), random.nextLong());
            } else if (roll < 25) {
                return Op.append(existing('f'), 1 + random.nextInt(3000), random.nextLong());
            } else if (roll < 31) {
                int r = random.nextInt(4);
                long size = r == 0 ? 0 : r == 1 ? random.nextInt(100) : r == 2 ? random.nextInt(5000)
                        : random.nextInt(100_000);
                return Op.truncate(existing('f'), size);
            } else if (roll < 39) {
                return Op.unlink(existing(random.nextInt(4) == 0 ? 'd' : 'f'));
            } else if (roll < 46) {
                String p = random.nextInt(6) == 0 ? existing('d') : fresh();
                return remember(Op.mkdir(p, pick(MKDIR_MODES)), 'd');
            } else if (roll < 50) {
                return Op.rmdir(existing('d'));
            } else if (roll < 53) {
                return Op.removeTree(existing('d'));
            } else if (roll < 66) {
                return rename();
            } else if (roll < 72) {
                return Op.chmod(existing(' '), pick(CHMOD_MODES));
            } else if (roll < 77) {
                return Op.chown(existing(' '), pick(IDS), pick(IDS));
            } else if (roll < 81) {
                String p = random.nextInt(6) == 0 ? existing(' ') : fresh();
                return remember(Op.symlink(p, linkTarget()), 'l');
            } else if (roll < 86) {
                String to = random.nextInt(6) == 0 ? existing(' ') : fresh();
                return remember(Op.link(existing('f'), to), 'f');
            } else if (roll < 92) {
                int r = random.nextInt(7);
                int flags = r == 0 ? Sys.XATTR_CREATE : r == 1 ? Sys.XATTR_REPLACE : 0;
                Op set = Op.setxattr(existing(' '), pick(XATTR_NAMES), "v" + random.nextInt(100), flags);
                xattrsSet.add(set);
                return set;
            } else if (roll < 94) {
                if (!xattrsSet.isEmpty() && random.nextBoolean()) {
                    Op set = xattrsSet.get(random.nextInt(xattrsSet.size()));
                    return Op.removexattr(set.path(), set.xattrName);
                }
                return Op.removexattr(existing(' '), pick(XATTR_NAMES));
            }
            long aNsec = random.nextInt(5) == 0 ? Sys.UTIME_OMIT : random.nextInt(1_000_000_000);
            return Op.utimes(existing(' '), time(), aNsec, time(), random.nextInt(1_000_000_000));
        }

        private Op rename() {
            String from = existing(random.nextBoolean() ? 'd' : 'f');
            String to;
            int r = random.nextInt(20);
            if (r == 0) {
                to = from + "/" + pick(NEW_LEAVES); // into itself: EINVAL
            } else if (r < 10) {
                to = existing(random.nextBoolean() ? 'd' : 'f');
            } else {
                to = fresh();
            }
            Character kind = kinds.get(from);
            return remember(Op.rename(from, to), kind == null ? 'f' : kind);
        }

        /** Records the name an op creates so that later ops can find it. */
        private Op remember(Op op, char kind) {
            String name = op.kind() == Op.Kind.RENAME || op.kind() == Op.Kind.LINK ? op.path2() : op.path();
            if (!kinds.containsKey(name)) {
                created.add(name);
            }
            kinds.put(name, kind);
            return op;
        }

        /**
         * A known path: seven times in ten one the lowers hold, else one the sequence created; of the
         * wanted kind three times in four (' ' for any); one time in ten a new name instead.
         */
        private String existing(char wanted) {
            if (random.nextInt(10) == 0) {
                return fresh();
            }
            List<String> source = created.isEmpty() || random.nextInt(10) < 7 ? lowerPaths : created;
            if (source.isEmpty()) {
                return fresh();
            }
            if (wanted != ' ' && random.nextInt(4) != 0) {
                List<String> ofKind = new ArrayList<>();
                for (String p : source) {
                    if (kinds.get(p) == wanted) {
                        ofKind.add(p);
                    }
                }
                if (!ofKind.isEmpty()) {
                    return ofKind.get(random.nextInt(ofKind.size()));
                }
            }
            return source.get(random.nextInt(source.size()));
        }

        /** A new leaf below a known directory or the root (it may exist by now: that is fine too). */
        private String fresh() {
            List<String> dirs = new ArrayList<>();
            for (String p : lowerPaths) {
                if (kinds.get(p) == 'd') {
                    dirs.add(p);
                }
            }
            for (String p : created) {
                if (kinds.get(p) == 'd') {
                    dirs.add(p);
                }
            }
            String leaf = pick(NEW_LEAVES);
            if (dirs.isEmpty() || random.nextInt(4) == 0) {
                return leaf;
            }
            return dirs.get(random.nextInt(dirs.size())) + "/" + leaf;
        }

        private String linkTarget() {
            String t = pick(LINK_TARGETS);
            return random.nextInt(3) == 0 ? t + "/" + pick(LINK_TARGETS) : t;
        }

        private long offset() {
            int r = random.nextInt(10);
            return r < 4 ? 0 : r < 7 ? random.nextInt(5000) : r < 9 ? random.nextInt(70_000)
                    : 200_000 + random.nextInt(100_000);
        }

        private int length() {
            return random.nextInt(10) == 0 ? 5000 + random.nextInt(65_000) : 1 + random.nextInt(5000);
        }

        private long time() {
            return RandomLowers.OLDEST + random.nextLong(RandomLowers.NEWEST - RandomLowers.OLDEST);
        }

        private int pick(int[] values) {
            return values[random.nextInt(values.length)];
        }

        private String pick(String[] values) {
            return values[random.nextInt(values.length)];
        }
    }

    // ---- application -------------------------------------------------------------------------------------

    /** Performs op on the tree at root; returns 0 or the errno of the first failing call. */
    public static int apply(Path root, Op op) {
        String a = abs(root, op.path);
        try {
            switch (op.kind) {
                case CREATE: {
                    int fd = SYS.openat(Sys.AT_FDCWD, a, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, op.mode);
                    try {
                        writeFully(fd, data(op.dataSeed, op.length), 0);
                    } finally {
                        SYS.close(fd);
                    }
                    return 0;
                }
                case WRITE:
                case APPEND: {
                    int flags = Sys.O_WRONLY | Sys.O_NONBLOCK | (op.kind == Op.Kind.APPEND ? Sys.O_APPEND : 0);
                    int fd = SYS.openat(Sys.AT_FDCWD, a, flags, 0);
                    try {
                        // with O_APPEND, Linux pwrite appends whatever the offset
                        writeFully(fd, data(op.dataSeed, op.length), op.offset);
                    } finally {
                        SYS.close(fd);
                    }
                    return 0;
                }
                case TRUNCATE: {
                    int fd = SYS.openat(Sys.AT_FDCWD, a, Sys.O_WRONLY | Sys.O_NONBLOCK, 0);
                    try {
                        SYS.ftruncate(fd, op.offset);
                    } finally {
                        SYS.close(fd);
                    }
                    return 0;
                }
                case UNLINK:
                    SYS.unlinkat(Sys.AT_FDCWD, a, 0);
                    return 0;
                case MKDIR:
                    SYS.mkdirat(Sys.AT_FDCWD, a, op.mode);
                    return 0;
                case RMDIR:
                    SYS.unlinkat(Sys.AT_FDCWD, a, Sys.AT_REMOVEDIR);
                    return 0;
                case REMOVE_TREE:
                    return removeTree(a);
                case RENAME:
                    SYS.renameat2(Sys.AT_FDCWD, a, Sys.AT_FDCWD, abs(root, op.path2), 0);
                    return 0;
                case CHMOD:
                    SYS.fchmodat(Sys.AT_FDCWD, a, op.mode);
                    return 0;
                case CHOWN:
                    SYS.lchownat(Sys.AT_FDCWD, a, op.uid, op.gid);
                    return 0;
                case SYMLINK:
                    SYS.symlinkat(op.path2, Sys.AT_FDCWD, a);
                    return 0;
                case LINK:
                    SYS.linkat(Sys.AT_FDCWD, a, Sys.AT_FDCWD, abs(root, op.path2));
                    return 0;
                case SETXATTR:
                    SYS.lsetxattr(a, op.xattrName, op.valueBytes(), op.flags);
                    return 0;
                case REMOVEXATTR:
                    SYS.lremovexattr(a, op.xattrName);
                    return 0;
                case UTIMES:
                    SYS.lutimensat(Sys.AT_FDCWD, a, op.aSec, op.aNsec, op.mSec, op.mNsec);
                    return 0;
                default:
                    throw new AssertionError(op.kind);
            }
        } catch (SysException e) {
            return e.errno();
        }
    }

    private static String abs(Path root, String rel) {
        return root.toAbsolutePath().toString() + "/" + rel;
    }

    private static void writeFully(int fd, byte[] data, long offset) throws SysException {
        int done = 0;
        while (done < data.length) {
            byte[] chunk = done == 0 ? data : java.util.Arrays.copyOfRange(data, done, data.length);
            int n = SYS.pwrite(fd, chunk, data.length - done, offset + done);
            if (n <= 0) {
                throw new SysException(Errno.EIO, "pwrite wrote nothing");
            }
            done += n;
        }
    }

    /** rm -r of an absolute path: children first, names sorted; 0 or the first errno. */
    static int removeTree(String abs) {
        try {
            Stat st = SYS.lstat(Sys.AT_FDCWD, abs);
            if (st.isDirectory()) {
                TreeSet<String> names = new TreeSet<>();
                for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, abs)) {
                    names.add(d.name);
                }
                for (String name : names) {
                    int r = removeTree(abs + "/" + name);
                    if (r != 0) {
                        return r;
                    }
                }
                SYS.unlinkat(Sys.AT_FDCWD, abs, Sys.AT_REMOVEDIR);
            } else {
                SYS.unlinkat(Sys.AT_FDCWD, abs, 0);
            }
            return 0;
        } catch (SysException e) {
            return e.errno();
        }
    }

    /**
     * What mv(1) does when rename(2) of a directory says EXDEV, with rename(2)'s result: an existing
     * target directory must be empty (else ENOTEMPTY) and is removed, the source is copied with
     * {@code cp -a} (modes, owners, times, xattrs, hard links within the tree) and then removed.
     * Used on the kernel side when kernel overlayfs refuses to rename a lower directory.
     */
    public static int moveByCopy(Path root, String from, String to) throws IOException {
        String src = abs(root, from);
        String dst = abs(root, to);
        try {
            Stat target = SYS.lstatOrNull(Sys.AT_FDCWD, dst);
            if (target != null) {
                if (!target.isDirectory()) {
                    return Errno.ENOTDIR;
                }
                SYS.unlinkat(Sys.AT_FDCWD, dst, Sys.AT_REMOVEDIR);
            }
        } catch (SysException e) {
            return e.errno();
        }
        List<String> out = new ArrayList<>();
        if (Mounts.run(List.of("cp", "-a", "-T", src, dst), out) != 0) {
            throw new IOException("cp -a -T " + src + " " + dst + " failed: " + String.join("; ", out));
        }
        try {
            copyDirectoryModes(src, dst);
        } catch (SysException e) {
            throw new IOException("restoring directory modes under " + dst + ": " + e.getMessage(), e);
        }
        return removeTree(src);
    }

    /**
     * rename(2) keeps a directory's mode, but cp keeps a set-group-ID bit that a new directory
     * inherited from a setgid parent: give each copied directory its source's exact mode back.
     * Likewise files with names outside the tree are linked, not copied.
     */
    private static void copyDirectoryModes(String src, String dst) throws SysException {
        Stat st = SYS.lstat(Sys.AT_FDCWD, src);
        if (!st.isDirectory()) {
            if (st.nlink > 1) {
                // rename(2) keeps a file linked to its names outside the tree; cp cannot: link it back
                SYS.unlinkat(Sys.AT_FDCWD, dst, 0);
                SYS.linkat(Sys.AT_FDCWD, src, Sys.AT_FDCWD, dst);
            }
            return;
        }
        for (io.layerfs.sys.DirEntry d : SYS.listDir(Sys.AT_FDCWD, src)) {
            copyDirectoryModes(src + "/" + d.name, dst + "/" + d.name);
        }
        SYS.fchmodat(Sys.AT_FDCWD, dst, st.permissions());
        // relinking above touched dst's times; cp -a had set them from src
        SYS.lutimensat(Sys.AT_FDCWD, dst, st.atimeSec, st.atimeNsec, st.mtimeSec, st.mtimeNsec);
    }
}
