package io.layerfs.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Builds overlay layer directories on disk, with every marker form a layer can carry, for tests and
 * benchmarks. Layers are declared bottom first (the order in which an image applies them);
 * {@link #layers()} returns them highest first, the order of {@code lowerdir=}:
 *
 * <pre>
 *   List&lt;Path&gt; lowers = LayerFixture.in(tmp)
 *       .layer("base").dir("a").file("a/x", "one").symlink("a/ln", "x").file("a/old", "o")
 *       .layer("top").whiteout("a/x").whiteoutOci("a/old").opaque("b")
 *       .layers();                       // [tmp/top, tmp/base]
 * </pre>
 *
 * Every call writes to disk at once, through {@link Sys} with absolute paths; parents are created as
 * needed with mode 0755. Modes are set exactly (chmod after create), whatever the process umask.
 * Paths are relative to the layer root, '/'-separated, without "." or ".." (the attribute setters
 * chmod, chown, xattr and mtime also take "." for the layer root itself). Failures are
 * {@link UncheckedIOException}s naming the call and path, so fixtures read as one expression.
 *
 * <p>Marker forms (overlayfs.rst, "whiteouts and opaque directories"; OCI image spec, "Whiteouts"):
 * <ul>
 *   <li>{@link Layer#whiteout}: character device 0/0, what kernel overlayfs creates and understands.
 *   <li>{@link Layer#whiteoutXattr}: zero-size regular file with {@code trusted.overlay.whiteout}; its
 *       parent gets {@code trusted.overlay.opaque=x} so the kernel looks for such whiteouts there.
 *   <li>{@link Layer#whiteoutUserXattr}: the same with {@code user.overlay.*} (kernel "userxattr" mounts).
 *   <li>{@link Layer#whiteoutOci}: empty file {@code .wh.NAME} (OCI layer tars; the kernel does not
 *       understand it).
 *   <li>{@link Layer#opaque} ({@code trusted.overlay.opaque=y}), {@link Layer#opaqueUser}
 *       ({@code user.overlay.opaque=y}), {@link Layer#opaqueFuseOverlay}
 *       ({@code user.fuseoverlayfs.opaque=y}), {@link Layer#opaqueOci} (file {@code .wh..wh..opq}).
 * </ul>
 * Only the character-device whiteout and {@code trusted.overlay.*} markers are understood by kernel
 * overlayfs without "userxattr"; {@link #randomLowers} uses only those, so the kernel can be the
 * reference in differential tests.
 */
public final class LayerFixture {
    public static final String TRUSTED_OPAQUE = "trusted.overlay.opaque";
    public static final String TRUSTED_WHITEOUT = "trusted.overlay.whiteout";
    public static final String USER_OPAQUE = "user.overlay.opaque";
    public static final String USER_WHITEOUT = "user.overlay.whiteout";
    public static final String FUSE_OVERLAY_OPAQUE = "user.fuseoverlayfs.opaque";
    public static final String OCI_WHITEOUT_PREFIX = ".wh.";
    public static final String OCI_OPAQUE = ".wh..wh..opq";

    private static final Sys SYS = Sys.get();

    private final Path base;
    private final List<Layer> declared = new ArrayList<>();

    private LayerFixture(Path base) {
        this.base = base;
    }

    /** A fixture whose layer directories are created under base (created if missing). */
    public static LayerFixture in(Path base) {
        try {
            Files.createDirectories(base);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new LayerFixture(base.toAbsolutePath());
    }

    /** Starts a new layer above all layers declared so far; its directory is base/name, which must not exist. */
    public Layer layer(String name) {
        Path dir = base.resolve(checkRelative(name));
        if (name.contains("/")) {
            throw new IllegalArgumentException("layer name must be one path component: " + name);
        }
        try {
            SYS.mkdirat(Sys.AT_FDCWD, dir.toString(), 0755);
            SYS.fchmodat(Sys.AT_FDCWD, dir.toString(), 0755);
        } catch (SysException e) {
            throw failure(e);
        }
        Layer layer = new Layer(name, dir);
        declared.add(layer);
        return layer;
    }

    /** The layer directories, highest first (the order of overlayfs' lowerdir= and of UnionConfig). */
    public List<Path> layers() {
        List<Path> out = new ArrayList<>();
        for (Layer l : declared) {
            out.add(l.path);
        }
        Collections.reverse(out);
        return out;
    }

    /**
     * Adds {@code count} random layers (named lower0 = bottom, lower1, ...) built from seed: files of
     * assorted sizes, directories, relative symlinks that never contain ".." (so following one cannot
     * leave the tree), hard links, fifos, user.* xattrs, assorted modes and owners, old explicit
     * timestamps, and in the layers above the bottom one: kernel whiteouts (char 0/0), opaque
     * directories (trusted.overlay.opaque=y), replaced files and type changes. Same seed, same layers,
     * byte for byte. Returns {@link #layers()}.
     */
    public List<Path> randomLowers(long seed, int count) {
        RandomLowers.build(this, seed, count);
        return layers();
    }

    Path base() {
        return base;
    }

    static String checkRelative(String path) {
        if (path.isEmpty() || path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("not a relative path: '" + path + "'");
        }
        for (String c : path.split("/", -1)) {
            if (c.isEmpty() || c.equals(".") || c.equals("..")) {
                throw new IllegalArgumentException("bad component in '" + path + "'");
            }
        }
        return path;
    }

    static UncheckedIOException failure(SysException e) {
        return new UncheckedIOException(new IOException(e.getMessage(), e));
    }

    /** One layer directory being built. Methods return this layer for chaining. */
    public final class Layer {
        private final String name;
        private final Path path;

        private Layer(String name, Path path) {
            this.name = name;
            this.path = path;
        }

        public String name() {
            return name;
        }

        public Path path() {
            return path;
        }

        /** Starts the next (higher) layer of the same fixture. */
        public Layer layer(String nextName) {
            return LayerFixture.this.layer(nextName);
        }

        /** All layers of the fixture, highest first. */
        public List<Path> layers() {
            return LayerFixture.this.layers();
        }

        private String abs(String rel) {
            return path.resolve(checkRelative(rel)).toString();
        }

        /** Like abs, but "." names the layer root (for the attribute setters). */
        private String target(String rel) {
            return rel.equals(".") ? path.toString() : abs(rel);
        }

        private Stat lstatOrNull(String rel) throws SysException {
            return SYS.lstatOrNull(Sys.AT_FDCWD, abs(rel));
        }

        private void parents(String rel) throws SysException {
            int slash = rel.indexOf('/');
            while (slash >= 0) {
                String p = rel.substring(0, slash);
                Stat st = lstatOrNull(p);
                if (st == null) {
                    SYS.mkdirat(Sys.AT_FDCWD, abs(p), 0755);
                    SYS.fchmodat(Sys.AT_FDCWD, abs(p), 0755);
                } else if (!st.isDirectory()) {
                    throw new IllegalStateException(name + ": parent " + p + " of " + rel + " is not a directory");
                }
                slash = rel.indexOf('/', slash + 1);
            }
        }

        public Layer dir(String rel) {
            return dir(rel, 0755);
        }

        /** Creates the directory (and parents) or, if it exists, sets its mode. */
        public Layer dir(String rel, int mode) {
            try {
                parents(rel);
                Stat st = lstatOrNull(rel);
                if (st == null) {
                    SYS.mkdirat(Sys.AT_FDCWD, abs(rel), 0700);
                } else if (!st.isDirectory()) {
                    throw new IllegalStateException(name + ": " + rel + " exists and is not a directory");
                }
                SYS.fchmodat(Sys.AT_FDCWD, abs(rel), mode);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        public Layer file(String rel, String content) {
            return file(rel, content.getBytes(StandardCharsets.UTF_8), 0644);
        }

        public Layer file(String rel, String content, int mode) {
            return file(rel, content.getBytes(StandardCharsets.UTF_8), mode);
        }

        /** A new regular file (it must not exist yet) with exactly this content and mode. */
        public Layer file(String rel, byte[] content, int mode) {
            try {
                parents(rel);
                int fd = SYS.openat(Sys.AT_FDCWD, abs(rel), Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0600);
                try {
                    int done = 0;
                    while (done < content.length) {
                        byte[] chunk = done == 0 ? content
                                : java.util.Arrays.copyOfRange(content, done, content.length);
                        done += SYS.pwrite(fd, chunk, content.length - done, done);
                    }
                } finally {
                    SYS.close(fd);
                }
                SYS.fchmodat(Sys.AT_FDCWD, abs(rel), mode);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /**
         * A new regular file of exactly size bytes (benchmark payloads up to gigabytes): written in
         * 1 MiB pieces of a fixed non-zero pattern, so every block is allocated (no holes for copy-up
         * to skip) and the content depends only on the offset.
         */
        public Layer fileOfSize(String rel, long size, int mode) {
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) (i * 31 + 7);
            }
            try {
                parents(rel);
                int fd = SYS.openat(Sys.AT_FDCWD, abs(rel), Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL, 0600);
                try {
                    long done = 0;
                    while (done < size) {
                        int n = (int) Math.min(chunk.length, size - done);
                        // a short write is retried from where it stopped: the pattern is per chunk offset
                        int at = (int) (done % chunk.length);
                        byte[] piece = at == 0 ? chunk : java.util.Arrays.copyOfRange(chunk, at, chunk.length);
                        done += SYS.pwrite(fd, piece, Math.min(n, piece.length), done);
                    }
                } finally {
                    SYS.close(fd);
                }
                SYS.fchmodat(Sys.AT_FDCWD, abs(rel), mode);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        public Layer symlink(String rel, String target) {
            try {
                parents(rel);
                SYS.symlinkat(target, Sys.AT_FDCWD, abs(rel));
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /** A second name rel for the existing non-directory existing (both relative to this layer). */
        public Layer hardlink(String rel, String existing) {
            try {
                parents(rel);
                SYS.linkat(Sys.AT_FDCWD, abs(existing), Sys.AT_FDCWD, abs(rel));
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        public Layer fifo(String rel) {
            return fifo(rel, 0644);
        }

        public Layer fifo(String rel, int mode) {
            try {
                parents(rel);
                SYS.mknodat(Sys.AT_FDCWD, abs(rel), Stat.S_IFIFO | 0600, 0);
                SYS.fchmodat(Sys.AT_FDCWD, abs(rel), mode);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /** A character device with the given Linux device number (makedev encoding). */
        public Layer charDevice(String rel, int major, int minor, int mode) {
            try {
                parents(rel);
                SYS.mknodat(Sys.AT_FDCWD, abs(rel), Stat.S_IFCHR | (mode & 07777), makedev(major, minor));
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /** Kernel whiteout: a character device 0/0 with mode 0, as overlayfs' own vfs_whiteout makes it. */
        public Layer whiteout(String rel) {
            return charDevice(rel, 0, 0, 0);
        }

        /** OCI whiteout: an empty regular file named .wh.NAME beside the name it hides. */
        public Layer whiteoutOci(String rel) {
            return file(ociWhiteoutName(rel), new byte[0], 0644);
        }

        /**
         * Xattr whiteout (overlayfs.rst): a zero-size regular file carrying trusted.overlay.whiteout, in
         * a directory marked trusted.overlay.opaque=x ("contains xattr whiteouts"). A parent that is
         * already opaque (=y) keeps y: it hides everything below anyway.
         */
        public Layer whiteoutXattr(String rel) {
            return xattrWhiteout(rel, TRUSTED_WHITEOUT, TRUSTED_OPAQUE);
        }

        /** The user.overlay.* variant of {@link #whiteoutXattr}, for "userxattr" mounts. */
        public Layer whiteoutUserXattr(String rel) {
            return xattrWhiteout(rel, USER_WHITEOUT, USER_OPAQUE);
        }

        private Layer xattrWhiteout(String rel, String whiteoutName, String opaqueName) {
            file(rel, new byte[0], 0644);
            try {
                SYS.lsetxattr(abs(rel), whiteoutName, new byte[0], 0);
                String parent = parentAbs(rel);
                byte[] current = SYS.lgetxattr(parent, opaqueName);
                if (current == null || !"y".equals(new String(current, StandardCharsets.UTF_8))) {
                    SYS.lsetxattr(parent, opaqueName, bytes("x"), 0);
                }
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /** Opaque directory, kernel form: trusted.overlay.opaque=y (the directory is created if missing). */
        public Layer opaque(String rel) {
            return dir(rel, currentModeOr(rel, 0755)).xattr(rel, TRUSTED_OPAQUE, "y");
        }

        /** Opaque directory for "userxattr" mounts: user.overlay.opaque=y. */
        public Layer opaqueUser(String rel) {
            return dir(rel, currentModeOr(rel, 0755)).xattr(rel, USER_OPAQUE, "y");
        }

        /** Opaque directory as fuse-overlayfs writes it when it cannot set trusted.*: user.fuseoverlayfs.opaque=y. */
        public Layer opaqueFuseOverlay(String rel) {
            return dir(rel, currentModeOr(rel, 0755)).xattr(rel, FUSE_OVERLAY_OPAQUE, "y");
        }

        /** Opaque directory, OCI form: an empty file .wh..wh..opq inside it. */
        public Layer opaqueOci(String rel) {
            dir(rel, currentModeOr(rel, 0755));
            return file(rel + "/" + OCI_OPAQUE, new byte[0], 0644);
        }

        private int currentModeOr(String rel, int mode) {
            try {
                Stat st = lstatOrNull(rel);
                return st != null && st.isDirectory() ? st.permissions() : mode;
            } catch (SysException e) {
                throw failure(e);
            }
        }

        /** chmod of rel itself (it must not be a symlink: Linux cannot change a symlink's mode). */
        public Layer chmod(String rel, int mode) {
            try {
                Stat st = SYS.lstat(Sys.AT_FDCWD, target(rel));
                if (st.isSymlink()) {
                    throw new IllegalArgumentException(name + ": chmod of symlink " + rel);
                }
                SYS.fchmodat(Sys.AT_FDCWD, target(rel), mode);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /** lchown. The kernel clears setuid/setgid of a non-directory on chown: chmod afterwards to keep them. */
        public Layer chown(String rel, int uid, int gid) {
            try {
                SYS.lchownat(Sys.AT_FDCWD, target(rel), uid, gid);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        public Layer xattr(String rel, String xattrName, String value) {
            return xattr(rel, xattrName, bytes(value));
        }

        public Layer xattr(String rel, String xattrName, byte[] value) {
            try {
                SYS.lsetxattr(target(rel), xattrName, value, 0);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        /**
         * Sets mtime (and atime to the same) of rel itself, not followed. Adding entries to a directory
         * later moves its mtime to now, so set directory times after filling them.
         */
        public Layer mtime(String rel, long sec, long nsec) {
            try {
                SYS.lutimensat(Sys.AT_FDCWD, target(rel), sec, nsec, sec, nsec);
            } catch (SysException e) {
                throw failure(e);
            }
            return this;
        }

        private String parentAbs(String rel) {
            int slash = rel.lastIndexOf('/');
            return slash < 0 ? path.toString() : abs(rel.substring(0, slash));
        }

        @Override
        public String toString() {
            return name + " (" + path + ")";
        }
    }

    static String ociWhiteoutName(String rel) {
        int slash = checkRelative(rel).lastIndexOf('/');
        return rel.substring(0, slash + 1) + OCI_WHITEOUT_PREFIX + rel.substring(slash + 1);
    }

    /** Linux's makedev(3) encoding of a device number. */
    public static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
    }

    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
