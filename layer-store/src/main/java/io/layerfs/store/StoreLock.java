package io.layerfs.store;

import java.io.IOException;
import java.nio.file.Path;

import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The store's metadata lock: flock(2) on ROOT/lock, shared to read metadata, exclusive to change it.
 * flock belongs to the open file description, so two threads of one process exclude each other exactly
 * as two processes do (FileChannel.lock would throw OverlappingFileLockException instead). The lock is
 * held for a read-modify-write of metadata only, never while a layer is being applied: staging needs no
 * lock, publishing (a rename) does.
 */
final class StoreLock implements AutoCloseable {
    private final int fd;

    private StoreLock(int fd) {
        this.fd = fd;
    }

    static StoreLock shared(Path lockFile) throws IOException {
        return acquire(lockFile, Sys.LOCK_SH);
    }

    static StoreLock exclusive(Path lockFile) throws IOException {
        return acquire(lockFile, Sys.LOCK_EX);
    }

    private static StoreLock acquire(Path lockFile, int op) throws IOException {
        Sys sys = Sys.get();
        try {
            int fd = sys.openat(Sys.AT_FDCWD, lockFile.toString(),
                    Sys.O_RDWR | Sys.O_CREAT | Sys.O_CLOEXEC | Sys.O_NOFOLLOW, 0600);
            try {
                sys.flock(fd, op);
            } catch (SysException e) {
                sys.close(fd);
                throw e;
            }
            return new StoreLock(fd);
        } catch (SysException e) {
            throw new IOException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
    }

    /** Closing the descriptor releases the flock. */
    @Override
    public void close() {
        Sys.get().close(fd);
    }
}
