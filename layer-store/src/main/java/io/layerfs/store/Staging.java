package io.layerfs.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.UUID;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * A directory under ROOT/tmp in which new state is built before one rename publishes it (or into which
 * doomed state is renamed before it is deleted). Its owner holds an flock on the sibling {@code ID.lock}
 * for as long as it works on it, so {@link #sweep} — run by every process at start — removes exactly the
 * staging directories whose owner is gone (crashed, killed), never one that is in use.
 *
 * <p>The lock file is created before the directory and removed after it, so a directory without its lock
 * file is always an orphan.
 */
final class Staging implements AutoCloseable {
    private static final String LOCK_SUFFIX = ".lock";

    private final Path dir;
    private final Path lockFile;
    private final int lockFd;

    private Staging(Path dir, Path lockFile, int lockFd) {
        this.dir = dir;
        this.lockFile = lockFile;
        this.lockFd = lockFd;
    }

    /** A new, empty staging directory under tmp. */
    static Staging create(Path tmp) throws IOException {
        Sys sys = Sys.get();
        for (int attempt = 0; attempt < 10; attempt++) {
            String id = UUID.randomUUID().toString();
            Path lock = tmp.resolve(id + LOCK_SUFFIX);
            int fd;
            try {
                fd = sys.openat(Sys.AT_FDCWD, lock.toString(),
                        Sys.O_RDWR | Sys.O_CREAT | Sys.O_EXCL | Sys.O_CLOEXEC | Sys.O_NOFOLLOW, 0600);
                sys.flock(fd, Sys.LOCK_EX);
                // a sweeper may have taken and removed the lock file before we locked it: then start over
                Stat held = sys.fstat(fd);
                Stat named = sys.lstatOrNull(Sys.AT_FDCWD, lock.toString());
                if (named == null || named.ino != held.ino || named.dev != held.dev) {
                    sys.close(fd);
                    continue;
                }
            } catch (SysException e) {
                throw new IOException("cannot create a staging lock in " + tmp + ": " + e.getMessage(), e);
            }
            Path dir = tmp.resolve(id);
            try {
                Files.createDirectory(dir);
            } catch (IOException e) {
                sys.close(fd);
                Files.deleteIfExists(lock);
                throw e;
            }
            return new Staging(dir, lock, fd);
        }
        throw new IOException("cannot create a staging directory in " + tmp);
    }

    Path dir() {
        return dir;
    }

    /**
     * Renames the staged directory (or a name inside it) to target. Returns false, and leaves target as
     * it is, when target exists already: a concurrent writer published the same content first, which
     * for content-addressed state is success.
     */
    boolean publish(Path staged, Path target) throws IOException {
        Sys sys = Sys.get();
        try {
            sys.renameat2(Sys.AT_FDCWD, staged.toString(), Sys.AT_FDCWD, target.toString(), Sys.RENAME_NOREPLACE);
        } catch (SysException e) {
            if (e.errno() == Errno.EEXIST || e.errno() == Errno.ENOTEMPTY) {
                return false;
            }
            throw new IOException("cannot move " + staged + " to " + target + ": " + e.getMessage(), e);
        }
        AtomicFiles.syncDirectory(target.getParent());
        return true;
    }

    /** Deletes what is left in the staging directory, then the lock file, then releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            AtomicFiles.deleteTree(dir);
            Files.deleteIfExists(lockFile);
        } finally {
            Sys.get().close(lockFd);
        }
    }

    /** Removes the staging directories of owners that are gone. Safe to run while others stage. */
    static int sweep(Path tmp) throws IOException {
        Sys sys = Sys.get();
        int removed = 0;
        try (DirectoryStream<Path> names = Files.newDirectoryStream(tmp)) {
            for (Path p : names) {
                String name = p.getFileName().toString();
                if (name.endsWith(LOCK_SUFFIX)) {
                    int fd;
                    try {
                        fd = sys.openat(Sys.AT_FDCWD, p.toString(), Sys.O_RDWR | Sys.O_CLOEXEC | Sys.O_NOFOLLOW, 0);
                    } catch (SysException e) {
                        continue; // removed meanwhile
                    }
                    try {
                        if (sys.tryLock(fd)) {
                            AtomicFiles.deleteTree(tmp.resolve(name.substring(0, name.length() - LOCK_SUFFIX.length())));
                            Files.deleteIfExists(p);
                            removed++;
                        }
                    } catch (SysException e) {
                        throw new IOException("cannot lock " + p + ": " + e.getMessage(), e);
                    } finally {
                        sys.close(fd);
                    }
                } else if (!Files.exists(tmp.resolve(name + LOCK_SUFFIX), LinkOption.NOFOLLOW_LINKS)) {
                    AtomicFiles.deleteTree(p);
                    removed++;
                }
            }
        }
        return removed;
    }
}
