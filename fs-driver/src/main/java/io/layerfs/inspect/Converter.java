package io.layerfs.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.Markers;
import io.layerfs.union.Markers.Encoding;

/**
 * Copies a layer directory (or an upper) into a new directory whose whiteouts and opaque directories
 * use one encoding, so that a layer made by one tool mounts the same under another:
 * <ul>
 *   <li>{@link Form#KERNEL}: character devices 0/0 and {@code trusted.overlay.opaque=y}, what kernel
 *       overlayfs writes and reads by default;</li>
 *   <li>{@link Form#USERXATTR}: character devices 0/0 and {@code user.overlay.opaque=y}, for kernel
 *       overlayfs mounted with {@code -o userxattr} (unprivileged, in a user namespace);</li>
 *   <li>{@link Form#OCI}: {@code .wh.NAME} and {@code .wh..wh..opq} files, as in an OCI layer tar.</li>
 * </ul>
 * The source is read with layerfs' rules, and the result shows the same union under its target
 * reader. Markers layerfs ignores are dropped (a {@code .wh.NAME} beside NAME, an opaque xattr on a
 * file), as are overlay bookkeeping xattrs ({@code overlay.origin}, {@code impure}, {@code nlink},
 * ...), which describe the old layout. A layer with {@code overlay.redirect} or
 * {@code overlay.metacopy} cannot be converted: its meaning lives in other layers.
 *
 * <p>Everything else is copied as it is: data, hard links, owner, mode, times, other xattrs. The
 * copy is built beside DST under a temporary name and renamed to DST at the end, so DST appears
 * complete or not at all. Writing device whiteouts and trusted.* xattrs needs root.
 */
public final class Converter {
    private static final Sys SYS = Sys.get();
    private static final int NAME_MAX = 255;

    /** The encoding to write. */
    public enum Form {
        KERNEL("kernel"), USERXATTR("userxattr"), OCI("oci");

        private final String id;

        Form(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Form byId(String id) {
            for (Form f : values()) {
                if (f.id.equals(id)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown form " + id + ": use kernel, userxattr or oci");
        }

        /** The reader that understands this form. */
        public Rules reader() {
            return this == KERNEL ? Rules.KERNEL : this == USERXATTR ? Rules.KERNEL_USERXATTR : Rules.LAYERFS;
        }
    }

    /**
     * What a conversion did.
     *
     * @param objects        objects copied (not counting markers)
     * @param whiteouts      whiteouts written
     * @param opaque         opaque directories written
     * @param droppedXattrs  names of overlay bookkeeping xattrs left out
     * @param warnings       markers dropped because layerfs ignores them, one line each
     */
    public record Result(int objects, int whiteouts, int opaque, List<String> droppedXattrs, List<String> warnings) {
    }

    private final LayerDir src;
    private final String dstRoot;
    private final Form form;
    private final Map<String, String> links = new HashMap<>();
    private final Set<String> dropped = new TreeSet<>();
    private final List<String> warnings = new ArrayList<>();
    private int objects;
    private int whiteouts;
    private int opaque;

    private Converter(LayerDir src, String dstRoot, Form form) {
        this.src = src;
        this.dstRoot = dstRoot;
        this.form = form;
    }

    /**
     * @param source a layer directory
     * @param target must not exist; its parent must
     */
    public static Result convert(Path source, Path target, Form form) throws IOException {
        Path s = source.toAbsolutePath().normalize();
        Path t = target.toAbsolutePath().normalize();
        if (!Files.exists(s, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(s.toString());
        }
        if (!Files.isDirectory(s)) {
            throw new NotDirectoryException(s.toString());
        }
        s = s.toRealPath();
        if (Files.exists(t, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(t.toString());
        }
        if (t.startsWith(s)) {
            throw new IOException("the target " + t + " is inside the source " + s);
        }
        Path tmp = t.resolveSibling("." + t.getFileName() + ".layerfs-convert-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Converter c = new Converter(new LayerDir(new LayerRef(0, "source", s, false)), tmp.toString(), form);
        try {
            c.run();
            try {
                Files.move(tmp, t, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + t + ": " + e.getMessage(), e);
            }
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
        return new Result(c.objects, c.whiteouts, c.opaque, List.copyOf(c.dropped), List.copyOf(c.warnings));
    }

    private void run() throws IOException {
        Stat root = src.stat(".");
        mkdir(".");
        DirMarkers dm = DirMarkers.read(src, ".", Rules.LAYERFS);
        if (dm.isOpaque()) {
            warnings.add("/: dropped " + dm.opaque().get(0).encoding().description()
                    + " on the layer's root, which no reader acts on");
        }
        copyDir(".", dm.xattrWhiteouts());
        finish(".", root);
    }

    private void copyDir(String dir, boolean xattrWhiteouts) throws IOException {
        List<String> names = src.list(dir);
        Set<String> present = new HashSet<>(names);
        for (String name : names) {
            if (Markers.isOciOpaqueName(name)) {
                continue; // written, in the target form, by the directory's own copy
            }
            String target = Markers.ociWhiteoutTarget(name);
            if (target != null) {
                String rel = LayerReader.child(dir, name);
                if (present.contains(target)) {
                    warnings.add(LayerReader.unionPath(rel) + ": dropped, " + target
                            + " exists in the same layer and layerfs shows it");
                } else {
                    whiteout(LayerReader.child(dir, target), src.stat(rel));
                }
                continue;
            }
            if (name.startsWith(".wh.")) {
                warnings.add(LayerReader.unionPath(LayerReader.child(dir, name)) + ": dropped, a reserved name");
                continue;
            }
            Probe p = Probe.of(src, Rules.LAYERFS, dir, name, xattrWhiteouts);
            String rel = LayerReader.child(dir, name);
            if (p.state == Probe.State.WHITEOUT) {
                whiteout(rel, src.stat(rel));
                continue;
            }
            Stat st = src.stat(rel);
            checkMovedMeaning(rel);
            for (Marker m : p.ignored) {
                if (m.encoding() != Encoding.OCI_WHITEOUT) {
                    warnings.add(m.path() + ": dropped " + m.encoding().description() + ", which layerfs ignores: "
                            + m.note());
                }
            }
            if (st.isDirectory()) {
                mkdir(rel);
                if (p.dir.isOpaque()) {
                    opaque(rel);
                }
                copyDir(rel, p.dir.xattrWhiteouts());
                finish(rel, st);
            } else {
                copyNonDirectory(rel, st);
            }
            objects++;
        }
    }

    /** redirect and metacopy refer to other layers: converting alone would change what they mean. */
    private void checkMovedMeaning(String rel) throws IOException {
        for (String n : src.xattrNames(rel)) {
            if (Markers.classifyRedirectXattr(n) != null || n.endsWith(".overlay.metacopy")) {
                throw new IOException(src.ref.resolve(rel) + " has " + n + ", which refers to other layers; "
                        + "layerfs cannot convert it");
            }
        }
    }

    private void whiteout(String rel, Stat marker) throws IOException {
        String dst = dst(rel);
        try {
            if (form == Form.OCI) {
                String name = LayerReader.name(rel);
                if (name.getBytes(StandardCharsets.UTF_8).length + 4 > NAME_MAX) {
                    throw new IOException(LayerReader.unionPath(rel) + ": name too long for an OCI whiteout (.wh.NAME)");
                }
                String wh = dst(LayerReader.child(LayerReader.parent(rel), Markers.ociWhiteoutName(name)));
                createEmpty(wh);
                SYS.lchownat(Sys.AT_FDCWD, wh, marker.uid, marker.gid);
                SYS.fchmodat(Sys.AT_FDCWD, wh, 0644);
            } else {
                SYS.mknodat(Sys.AT_FDCWD, dst, Stat.S_IFCHR, 0);
                SYS.lchownat(Sys.AT_FDCWD, dst, marker.uid, marker.gid);
            }
        } catch (SysException e) {
            throw io(e, rel);
        }
        whiteouts++;
    }

    private void opaque(String rel) throws IOException {
        try {
            switch (form) {
                case KERNEL:
                    SYS.lsetxattr(dst(rel), Encoding.TRUSTED_OPAQUE.id(), new byte[] {'y'}, 0);
                    break;
                case USERXATTR:
                    SYS.lsetxattr(dst(rel), Encoding.USER_OPAQUE.id(), new byte[] {'y'}, 0);
                    break;
                default:
                    String f = dst(LayerReader.child(rel, ".wh..wh..opq"));
                    createEmpty(f);
                    SYS.fchmodat(Sys.AT_FDCWD, f, 0644);
                    break;
            }
        } catch (SysException e) {
            throw io(e, rel);
        }
        opaque++;
    }

    private void mkdir(String rel) throws IOException {
        try {
            SYS.mkdirat(Sys.AT_FDCWD, dst(rel), 0700);
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    /** A directory's attributes, set once its entries are in (adding entries would move its mtime). */
    private void finish(String rel, Stat st) throws IOException {
        try {
            String d = dst(rel);
            SYS.lchownat(Sys.AT_FDCWD, d, st.uid, st.gid);
            SYS.fchmodat(Sys.AT_FDCWD, d, st.permissions());
            copyXattrs(rel);
            SYS.lutimensat(Sys.AT_FDCWD, d, st.atimeSec, st.atimeNsec, st.mtimeSec, st.mtimeNsec);
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    private void copyNonDirectory(String rel, Stat st) throws IOException {
        String d = dst(rel);
        String key = st.dev + ":" + st.ino;
        try {
            if (st.nlink > 1 && links.containsKey(key)) {
                SYS.linkat(Sys.AT_FDCWD, links.get(key), Sys.AT_FDCWD, d);
                return;
            }
            switch (st.type()) {
                case Stat.S_IFREG:
                    copyData(src.ref.resolve(rel).toString(), d);
                    break;
                case Stat.S_IFLNK:
                    SYS.symlinkat(src.readlink(rel), Sys.AT_FDCWD, d);
                    break;
                default:
                    SYS.mknodat(Sys.AT_FDCWD, d, st.type() | 0600, st.rdev);
                    break;
            }
            SYS.lchownat(Sys.AT_FDCWD, d, st.uid, st.gid);
            if (!st.isSymlink()) {
                SYS.fchmodat(Sys.AT_FDCWD, d, st.permissions());
            }
            copyXattrs(rel);
            SYS.lutimensat(Sys.AT_FDCWD, d, st.atimeSec, st.atimeNsec, st.mtimeSec, st.mtimeNsec);
        } catch (SysException e) {
            throw io(e, rel);
        }
        if (st.nlink > 1) {
            links.put(key, d);
        }
    }

    /** Every xattr but the overlay's own: markers are rewritten, bookkeeping is dropped. */
    private void copyXattrs(String rel) throws IOException, SysException {
        for (String n : src.xattrNames(rel)) {
            if (Markers.isPrivateXattr(n)) {
                boolean marker = Markers.OPAQUE_XATTRS.contains(n)
                        || Markers.classifyWhiteoutXattrs(List.of(n)) != null;
                if (!marker) {
                    dropped.add(n);
                }
                continue;
            }
            byte[] v = src.xattr(rel, n);
            if (v != null) {
                SYS.lsetxattr(dst(rel), n, v, 0);
            }
        }
    }

    private static void copyData(String from, String to) throws SysException {
        int in = SYS.openat(Sys.AT_FDCWD, from, Sys.O_RDONLY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0);
        try {
            int out = SYS.openat(Sys.AT_FDCWD, to, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_CLOEXEC, 0600);
            try {
                long size = SYS.fstat(in).size;
                long off = 0;
                boolean plain = false;
                while (off < size && !plain) {
                    try {
                        long n = SYS.copyFileRange(in, off, out, off, size - off);
                        if (n <= 0) {
                            break;
                        }
                        off += n;
                    } catch (SysException e) {
                        if (e.errno() != Errno.EXDEV && e.errno() != Errno.EINVAL && e.errno() != Errno.ENOSYS
                                && e.errno() != Errno.EOPNOTSUPP) {
                            throw e;
                        }
                        plain = true;
                    }
                }
                byte[] buf = new byte[128 * 1024];
                while (true) {
                    int n = SYS.pread(in, buf, buf.length, off);
                    if (n <= 0) {
                        break;
                    }
                    int done = 0;
                    while (done < n) {
                        byte[] chunk = done == 0 ? buf : java.util.Arrays.copyOfRange(buf, done, n);
                        done += SYS.pwrite(out, chunk, n - done, off + done);
                    }
                    off += n;
                }
            } finally {
                SYS.close(out);
            }
        } finally {
            SYS.close(in);
        }
    }

    private static void createEmpty(String path) throws SysException {
        SYS.close(SYS.openat(Sys.AT_FDCWD, path, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_CLOEXEC, 0644));
    }

    private String dst(String rel) {
        return ".".equals(rel) ? dstRoot : dstRoot + "/" + rel;
    }

    private IOException io(SysException e, String rel) {
        String hint = e.errno() == Errno.EPERM ? " (device whiteouts and trusted.* xattrs need root)" : "";
        return new IOException(LayerReader.unionPath(rel) + ": " + e.getMessage() + hint, e);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.list(p)) {
                for (Path c : (Iterable<Path>) s::iterator) {
                    deleteTree(c);
                }
            }
        }
        Files.delete(p);
    }
}
