package io.layerfs.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * A canonical, comparable description of a directory tree as a process sees it through lstat, readlink,
 * read and the xattr calls, never following symlinks: per path its type, permission bits, owner,
 * size and SHA-256 of regular files, symlink target, device number, xattrs (names sorted, values
 * shown as text when printable, else hex) and, when asked, nlink and mtime.
 *
 * <p>Two snapshots are equal when their {@link #lines()} are; {@link #diff} lists the differences
 * in words, one per line, for assertion messages. The root itself is the entry ".".
 *
 * <p>Timestamps of a live union are partly "now" (anything written during a test), so
 * {@link Options#mtimesBefore(long)} records an mtime only when it is older than a cutoff: times set
 * explicitly (fixture timestamps, utimensat) are compared, clock times are recorded as "recent".
 */
public final class TreeSnapshot {
    private static final Sys SYS = Sys.get();

    /** What a snapshot records. Immutable; the with* methods return changed copies. */
    public static final class Options {
        private final boolean nlink;
        private final long mtimeCutoff;
        private final Predicate<String> xattrFilter;

        private Options(boolean nlink, long mtimeCutoff, Predicate<String> xattrFilter) {
            this.nlink = nlink;
            this.mtimeCutoff = mtimeCutoff;
            this.xattrFilter = xattrFilter;
        }

        /** nlink off, mtimes off, every xattr except security.selinux. */
        public static Options defaults() {
            return new Options(false, Long.MIN_VALUE, name -> !name.equals("security.selinux"));
        }

        /** Record nlink of non-directories (directory link counts differ legitimately between unions). */
        public Options withNlink(boolean on) {
            return new Options(on, mtimeCutoff, xattrFilter);
        }

        /** Record every mtime exactly. */
        public Options withAllMtimes() {
            return new Options(nlink, Long.MAX_VALUE, xattrFilter);
        }

        /** Record an mtime exactly when its seconds are below cutoff, else as "recent". */
        public Options mtimesBefore(long cutoffEpochSecond) {
            return new Options(nlink, cutoffEpochSecond, xattrFilter);
        }

        /** Record only xattrs whose names pass (in addition to leaving out security.selinux). */
        public Options withXattrs(Predicate<String> filter) {
            return new Options(nlink, mtimeCutoff, name -> !name.equals("security.selinux") && filter.test(name));
        }
    }

    /** One path of the tree. Field values are strings ready to print; absent fields are null. */
    public static final class Entry {
        private final String path;
        private final LinkedHashMap<String, String> fields;

        private Entry(String path, LinkedHashMap<String, String> fields) {
            this.path = path;
            this.fields = fields;
        }

        public String path() {
            return path;
        }

        /** "dir", "reg", "lnk", "chr", "blk", "fifo" or "sock". */
        public String type() {
            return fields.get("type");
        }

        /** Named fields in a fixed order: type, mode, owner, size, sha256, target, rdev, nlink, mtime, xattr:NAME... */
        public Map<String, String> fields() {
            return Collections.unmodifiableMap(fields);
        }

        public String field(String name) {
            return fields.get(name);
        }

        /** Canonical one-line form: equal lines mean equal entries. */
        public String line() {
            StringBuilder b = new StringBuilder(path);
            for (Map.Entry<String, String> f : fields.entrySet()) {
                b.append(' ');
                if (!f.getKey().equals("type")) {
                    b.append(f.getKey()).append('=');
                }
                b.append(f.getValue());
            }
            return b.toString();
        }

        /** Shorter than {@link #line()}: the hash is cut to 12 digits and long xattr values elided. */
        public String summary() {
            StringBuilder b = new StringBuilder(path);
            for (Map.Entry<String, String> f : fields.entrySet()) {
                b.append(' ');
                if (!f.getKey().equals("type")) {
                    b.append(f.getKey()).append('=');
                }
                b.append(shorten(f.getKey(), f.getValue()));
            }
            return b.toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry && ((Entry) o).path.equals(path) && ((Entry) o).fields.equals(fields);
        }

        @Override
        public int hashCode() {
            return Objects.hash(path, fields);
        }

        @Override
        public String toString() {
            return summary();
        }
    }

    private final TreeMap<String, Entry> entries;

    private TreeSnapshot(TreeMap<String, Entry> entries) {
        this.entries = entries;
    }

    public static TreeSnapshot of(Path root) throws IOException {
        return of(root, Options.defaults());
    }

    public static TreeSnapshot of(Path root, Options options) throws IOException {
        TreeMap<String, Entry> out = new TreeMap<>();
        String abs = root.toAbsolutePath().toString();
        try {
            walk(abs, ".", options, out);
        } catch (SysException e) {
            throw new IOException("snapshot of " + root + ": " + e.getMessage(), e);
        }
        return new TreeSnapshot(out);
    }

    private static void walk(String abs, String rel, Options options, TreeMap<String, Entry> out)
            throws SysException {
        Stat st = SYS.lstat(Sys.AT_FDCWD, abs);
        out.put(rel, describe(abs, rel, st, options));
        if (st.isDirectory()) {
            TreeSet<String> names = new TreeSet<>();
            for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, abs)) {
                names.add(d.name);
            }
            for (String name : names) {
                walk(abs + "/" + name, rel.equals(".") ? name : rel + "/" + name, options, out);
            }
        }
    }

    private static Entry describe(String abs, String rel, Stat st, Options options) throws SysException {
        LinkedHashMap<String, String> f = new LinkedHashMap<>();
        f.put("type", typeName(st.type()));
        if (!st.isSymlink()) {
            f.put("mode", String.format("%04o", st.permissions()));
        }
        f.put("owner", st.uid + ":" + st.gid);
        if (st.isRegular()) {
            f.put("size", Long.toString(st.size));
            f.put("sha256", sha256(abs));
        }
        if (st.isSymlink()) {
            f.put("target", SYS.readlinkat(Sys.AT_FDCWD, abs));
        }
        if (st.type() == Stat.S_IFCHR || st.type() == Stat.S_IFBLK) {
            f.put("rdev", LayerFixture.major(st.rdev) + "," + LayerFixture.minor(st.rdev));
        }
        if (options.nlink && !st.isDirectory()) {
            f.put("nlink", Long.toString(st.nlink));
        }
        if (options.mtimeCutoff != Long.MIN_VALUE) {
            f.put("mtime", st.mtimeSec < options.mtimeCutoff
                    ? st.mtimeSec + "." + String.format("%09d", st.mtimeNsec) : "recent");
        }
        List<String> names = new ArrayList<>(SYS.llistxattr(abs));
        Collections.sort(names);
        for (String name : names) {
            if (options.xattrFilter.test(name)) {
                byte[] value = SYS.lgetxattr(abs, name);
                f.put("xattr:" + name, value == null ? "(vanished)" : render(value));
            }
        }
        return new Entry(rel, f);
    }

    private static String sha256(String abs) throws SysException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        int fd = SYS.openat(Sys.AT_FDCWD, abs, Sys.O_RDONLY | Sys.O_NOFOLLOW | Sys.O_NONBLOCK, 0);
        try {
            byte[] buf = new byte[64 * 1024];
            long off = 0;
            while (true) {
                int n = SYS.pread(fd, buf, buf.length, off);
                if (n <= 0) {
                    break;
                }
                md.update(buf, 0, n);
                off += n;
            }
        } finally {
            SYS.close(fd);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String typeName(int type) {
        switch (type) {
            case Stat.S_IFDIR: return "dir";
            case Stat.S_IFREG: return "reg";
            case Stat.S_IFLNK: return "lnk";
            case Stat.S_IFCHR: return "chr";
            case Stat.S_IFBLK: return "blk";
            case Stat.S_IFIFO: return "fifo";
            case Stat.S_IFSOCK: return "sock";
            default: return "type0" + Integer.toOctalString(type);
        }
    }

    /** Printable ASCII as "text", anything else as 0xHEX. */
    static String render(byte[] value) {
        for (byte b : value) {
            if (b < 0x20 || b > 0x7e || b == '"') {
                return "0x" + HexFormat.of().formatHex(value);
            }
        }
        return '"' + new String(value, StandardCharsets.US_ASCII) + '"';
    }

    private static String shorten(String field, String value) {
        if (field.equals("sha256")) {
            return value.substring(0, 12);
        }
        if (value.length() > 40) {
            return value.substring(0, 37) + "...";
        }
        return value;
    }

    // ---- access ----------------------------------------------------------------------------------------

    public SortedMap<String, Entry> entries() {
        return Collections.unmodifiableSortedMap(entries);
    }

    /** The entry for a relative path ("." for the root), or null. */
    public Entry get(String path) {
        return entries.get(path);
    }

    public boolean contains(String path) {
        return entries.containsKey(path);
    }

    public int size() {
        return entries.size();
    }

    /** One canonical line per entry, sorted by path. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        for (Entry e : entries.values()) {
            out.add(e.line());
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TreeSnapshot && ((TreeSnapshot) o).entries.equals(entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    /** The listing, one {@link Entry#summary()} per line. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (Entry e : entries.values()) {
            b.append(e.summary()).append('\n');
        }
        return b.toString();
    }

    // ---- diff --------------------------------------------------------------------------------------------

    public static List<String> diff(TreeSnapshot a, TreeSnapshot b) {
        return diff("first", a, "second", b);
    }

    /**
     * The differences between a and b in words, sorted by path, e.g.
     * {@code "a/x: mode 0644 (kernel) vs 0600 (layerfs)"} or {@code "only in layerfs: a/y reg mode=0644 ..."}.
     * Empty when the snapshots are equal.
     */
    public static List<String> diff(String nameA, TreeSnapshot a, String nameB, TreeSnapshot b) {
        List<String> out = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>(a.entries.keySet());
        paths.addAll(b.entries.keySet());
        for (String path : paths) {
            Entry ea = a.entries.get(path);
            Entry eb = b.entries.get(path);
            if (eb == null) {
                out.add("only in " + nameA + ": " + ea.summary());
            } else if (ea == null) {
                out.add("only in " + nameB + ": " + eb.summary());
            } else if (!ea.fields.equals(eb.fields)) {
                List<String> parts = new ArrayList<>();
                for (String k : orderedKeys(ea, eb)) {
                    String va = ea.fields.get(k);
                    String vb = eb.fields.get(k);
                    if (!Objects.equals(va, vb)) {
                        parts.add(k + " " + (va == null ? "(none)" : shorten(k, va)) + " (" + nameA + ") vs "
                                + (vb == null ? "(none)" : shorten(k, vb)) + " (" + nameB + ")");
                    }
                }
                out.add(path + ": " + String.join(", ", parts));
            }
        }
        return out;
    }

    private static List<String> orderedKeys(Entry a, Entry b) {
        List<String> keys = new ArrayList<>(a.fields.keySet());
        for (String k : b.fields.keySet()) {
            if (!keys.contains(k)) {
                keys.add(k);
            }
        }
        return keys;
    }
}
