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

    public Stack(Path base, int lowerCount) throws IOException {
        this.base = base;
        for (int i = 0; i < lowerCount; i++) {
            lowers.add(Files.createDirectories(base.resolve("l" + i)));
        }
        upper = Files.createDirectories(base.resolve("upper"));
        work = Files.createDirectories(base.resolve("work"));
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

    public Stack file(Path layer, String rel, String content) throws IOException {
        Path p = layer.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return this;
    }

    public Stack dir(Path layer, String rel) throws IOException {
        Files.createDirectories(layer.resolve(rel));
        return this;
    }

    /** Kernel whiteout: character device 0/0. */
    public Stack whiteout(Path layer, String rel) throws IOException, SysException {
        Path p = layer.resolve(rel);
        Files.createDirectories(p.getParent());
        SYS.mknodat(Sys.AT_FDCWD, p.toString(), Stat.S_IFCHR, 0);
        return this;
    }

    /** OCI whiteout: an empty .wh.NAME beside the name. */
    public Stack whiteoutOci(Path layer, String rel) throws IOException {
        Path p = layer.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.createFile(p.getParent().resolve(".wh." + p.getFileName()));
        return this;
    }

    /** Kernel 6.7+ xattr whiteout: zero-size file with overlay.whiteout, parent marked opaque=x. */
    public Stack whiteoutXattr(Path layer, String rel, String prefix) throws IOException, SysException {
        Path p = layer.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.createFile(p);
        SYS.lsetxattr(p.toString(), prefix + ".overlay.whiteout", new byte[0], 0);
        SYS.lsetxattr(p.getParent().toString(), prefix + ".overlay.opaque", "x".getBytes(StandardCharsets.US_ASCII), 0);
        return this;
    }

    public Stack opaqueXattr(Path layer, String rel, String xattrName) throws IOException, SysException {
        Path p = Files.createDirectories(layer.resolve(rel));
        SYS.lsetxattr(p.toString(), xattrName, "y".getBytes(StandardCharsets.US_ASCII), 0);
        return this;
    }

    public Stack opaqueFile(Path layer, String rel) throws IOException {
        Path p = Files.createDirectories(layer.resolve(rel));
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
