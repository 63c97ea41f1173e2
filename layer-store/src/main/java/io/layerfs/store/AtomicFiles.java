package io.layerfs.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

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

    /** Removes a tree without following symlinks; a name that vanished meanwhile is not an error. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // a directory of mode 0555 (as a layer may hold) must be writable to be emptied
                dir.toFile().setWritable(true, true);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
