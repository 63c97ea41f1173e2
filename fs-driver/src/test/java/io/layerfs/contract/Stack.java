package io.layerfs.contract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.union.UnionConfig;

/**
 * A stack of layer directories for one test: lowers l0 (highest) .. lN, an upper and a workdir,
 * with helpers that write each on-disk marker encoding directly, as another tool would have.
 */
public final class Stack {
    private static final Sys SYS = Sys.get();

    public final Path base;
    public final List<Path> lowers = new ArrayList<>();
    public final Path upper;
    public final Path work;
    /** Where a mounted view of this stack goes; tests may move it (short paths over deep layers). */
    public Path mountpoint;

    public Stack(Path base, int lowerCount) throws IOException {
        this.base = base;
        for (int i = 0; i < lowerCount; i++) {
            lowers.add(mkdirs(base.resolve("l" + i)));
        }
        upper = mkdirs(base.resolve("upper"));
        work = mkdirs(base.resolve("work"));
        mountpoint = base.resolve("mnt");
    }

    public UnionConfig config() {
        return new UnionConfig(lowers, upper, work);
    }

    public UnionConfig readOnlyConfig() {
        return new UnionConfig(lowers, null, null);
    }

    public Path lower(int i) {
        return lowers.get(i);
    }

    /**
     * Creates missing directories with mode 0755 whatever the process umask (a mount in this JVM
     * sets it to 0, so Files.createDirectories alone would make them 0777).
     */
    static Path mkdirs(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir;
        }
        mkdirs(dir.getParent());
        try {
            SYS.mkdirat(Sys.AT_FDCWD, dir.toString(), 0755);
            SYS.fchmodat(Sys.AT_FDCWD, dir.toString(), 0755);
        } catch (SysException e) {
            throw new IOException(e.getMessage(), e);
        }
        return dir;
    }

    /** A regular file with mode 0644. */
    public Stack file(Path layer, String rel, String content) throws IOException {
        Path p = layer.resolve(rel);
        mkdirs(p.getParent());
        Files.writeString(p, content);
        try {
            SYS.fchmodat(Sys.AT_FDCWD, p.toString(), 0644);
        } catch (SysException e) {
            throw new IOException(e.getMessage(), e);
        }
        return this;
    }

    public Stack dir(Path layer, String rel) throws IOException {
        mkdirs(layer.resolve(rel));
        return this;
    }

    /** Kernel whiteout: character device 0/0. */
    public Stack whiteout(Path layer, String rel) throws IOException, SysException {
        Path p = layer.resolve(rel);
        mkdirs(p.getParent());
        SYS.mknodat(Sys.AT_FDCWD, p.toString(), Stat.S_IFCHR, 0);
        return this;
    }

    /** OCI whiteout: an empty .wh.NAME beside the name. */
    public Stack whiteoutOci(Path layer, String rel) throws IOException {
        Path p = layer.resolve(rel);
        mkdirs(p.getParent());
        Files.createFile(p.getParent().resolve(".wh." + p.getFileName()));
        return this;
    }

    /** Kernel 6.7+ xattr whiteout: zero-size file with overlay.whiteout, parent marked opaque=x. */
    public Stack whiteoutXattr(Path layer, String rel, String prefix) throws IOException, SysException {
        Path p = layer.resolve(rel);
        mkdirs(p.getParent());
        Files.createFile(p);
        SYS.lsetxattr(p.toString(), prefix + ".overlay.whiteout", new byte[0], 0);
        SYS.lsetxattr(p.getParent().toString(), prefix + ".overlay.opaque", "x".getBytes(StandardCharsets.US_ASCII), 0);
        return this;
    }

    public Stack opaqueXattr(Path layer, String rel, String xattrName) throws IOException, SysException {
        Path p = mkdirs(layer.resolve(rel));
        SYS.lsetxattr(p.toString(), xattrName, "y".getBytes(StandardCharsets.US_ASCII), 0);
        return this;
    }

    public Stack opaqueFile(Path layer, String rel) throws IOException {
        Path p = mkdirs(layer.resolve(rel));
        Files.createFile(p.resolve(".wh..wh..opq"));
        return this;
    }

    public static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
