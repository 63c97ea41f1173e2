package io.layerfs.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Durable replacement of small files and removal of trees. A metadata file is replaced by writing
 * {@code .tmp-NAME-RANDOM} next to it, fsyncing it, renaming it over NAME and fsyncing the directory:
 * a crash leaves the old or the new content, never a mix. Leftover {@code .tmp-} files are swept by
 * {@link LayerStore} at start.
 */
final class AtomicFiles {
    static final String TEMP_PREFIX = ".tmp-";

    private AtomicFiles() {
    }

    static void write(Path target, byte[] content) throws IOException {
        Path dir = target.getParent();
        Path temp = dir.resolve(TEMP_PREFIX + target.getFileName() + "-" + UUID.randomUUID());
        try {
            writeSynced(temp, content);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory(dir);
    }

    /** Writes a new file (which must not exist) and fsyncs it. */
    static void writeSynced(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /**
     * Makes everything under dir durable with one syncfs(2) of its filesystem: for a tree of many new
     * files (an applied layer), far cheaper than an fsync per file, and it covers the directories'
     * entries too. Then the rename that publishes the tree cannot reach the disk before its content.
     */
    static void syncFilesystem(Path dir) throws IOException {
        Sys sys = Sys.get();
        try {
            int fd = sys.openat(Sys.AT_FDCWD, dir.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0);
            try {
                sys.syncfs(fd);
            } finally {
                sys.close(fd);
            }
        } catch (SysException e) {
            throw new IOException("cannot sync " + dir + ": " + e.getMessage(), e);
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        Sys sys = Sys.get();
        try {
            int fd = sys.openat(Sys.AT_FDCWD, dir.toString(), Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0);
            try {
                sys.fsync(fd, false);
            } finally {
                sys.close(fd);
            }
        } catch (SysException e) {
            throw new IOException("cannot sync " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Removes .tmp- files that a crashed writer left in dir. Call with the exclusive store lock held. */
    static void sweepTemps(Path dir) throws IOException {
        try (DirectoryStream<Path> names = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path p : names) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Removes a tree without following symlinks, relative to directory descriptors: each directory is
     * opened from its parent's descriptor with O_NOFOLLOW and emptied with unlinkat, so a name that is
     * (or meanwhile became) a symlink is removed as a symlink and never followed out of the tree. This
     * is how a refused layer's staging directory goes (issue 6, promise 2). A name that vanished
     * meanwhile is not an error.
     */
    static void deleteTree(Path root) throws IOException {
        Sys sys = Sys.get();
        Path abs = root.toAbsolutePath();
        if (abs.getParent() == null) {
            throw new IOException("refusing to delete " + abs);
        }
        String name = abs.getFileName().toString();
        int parent;
        try {
            parent = sys.openat(Sys.AT_FDCWD, abs.getParent().toString(), Sys.O_PATH | Sys.O_DIRECTORY, 0);
        } catch (SysException e) {
            if (e.errno() == Errno.ENOENT) {
                return;
            }
            throw new IOException("cannot remove " + abs + ": " + e.getMessage(), e);
        }
        try {
            removeAt(sys, parent, name);
        } catch (SysException e) {
            throw new IOException("cannot remove " + abs + ": " + e.getMessage(), e);
        } finally {
            sys.close(parent);
        }
    }

    /** Removes parent/name, a directory with everything in it or any other object. */
    private static void removeAt(Sys sys, int parent, String name) throws SysException {
        Stat st = sys.lstatOrNull(parent, name);
        if (st == null) {
            return;
        }
        if (st.isDirectory()) {
            int fd;
            try {
                fd = sys.openat(parent, name, Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW, 0);
            } catch (SysException e) {
                if (e.errno() == Errno.ENOENT) {
                    return;
                }
                throw e;
            }
            try {
                Stat self = sys.fstat(fd);
                if ((self.mode & 0700) != 0700) {
                    // a directory of mode 0555 (as a layer may hold) must be writable to be emptied
                    sys.fchmod(fd, (self.mode & 07777) | 0700);
                }
                for (DirEntry e : sys.listDir(fd)) {
                    if (e.type == DirEntry.DT_DIR || e.type == DirEntry.DT_UNKNOWN) {
                        removeAt(sys, fd, e.name);
                    } else {
                        unlink(sys, fd, e.name, 0);
                    }
                }
            } finally {
                sys.close(fd);
            }
            unlink(sys, parent, name, Sys.AT_REMOVEDIR);
        } else {
            unlink(sys, parent, name, 0);
        }
    }

    private static void unlink(Sys sys, int dirfd, String name, int flags) throws SysException {
        try {
            sys.unlinkat(dirfd, name, flags);
        } catch (SysException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
    }
}
