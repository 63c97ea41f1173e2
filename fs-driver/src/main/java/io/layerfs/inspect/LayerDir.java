package io.layerfs.inspect;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Read access to one layer directory: lstat, readlink, listing and xattrs of paths relative to its
 * root, never following a symlink. Relative paths are '/'-separated, "." for the root. Failures
 * other than "no such name" become IOExceptions naming the host path.
 */
final class LayerDir extends LayerReader {
    private static final Sys SYS = Sys.get();

    private final String root;

    LayerDir(LayerRef ref) {
        super(ref);
        this.root = ref.root().toAbsolutePath().normalize().toString();
    }

    String abs(String rel) {
        return ".".equals(rel) ? root : root + "/" + rel;
    }

    /** lstat, or null if rel (or a directory on the way to it) does not exist. */
    @Override
    Stat stat(String rel) throws IOException {
        try {
            return SYS.lstatOrNull(Sys.AT_FDCWD, abs(rel));
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    @Override
    String readlink(String rel) throws IOException {
        try {
            return SYS.readlinkat(Sys.AT_FDCWD, abs(rel));
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    /** Names in directory rel, sorted. */
    @Override
    List<String> list(String rel) throws IOException {
        try {
            List<String> names = new ArrayList<>();
            for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, abs(rel))) {
                names.add(d.name);
            }
            Collections.sort(names);
            return names;
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    @Override
    List<String> xattrNames(String rel) throws IOException {
        try {
            return SYS.llistxattr(abs(rel));
        } catch (SysException e) {
            throw io(e, rel);
        }
    }

    /** The value, or null if there is no such xattr. */
    @Override
    byte[] xattr(String rel, String name) throws IOException {
        try {
            return SYS.lgetxattr(abs(rel), name);
        } catch (SysException e) {
            throw io(e, rel);
        }
    }


    private IOException io(SysException e, String rel) {
        return new IOException(ref.name() + ": " + e.getMessage() + " (" + Path.of(abs(rel)) + ")", e);
    }


}
