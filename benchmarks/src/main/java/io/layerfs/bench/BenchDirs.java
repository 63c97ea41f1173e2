package io.layerfs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Scratch directories for benchmark fixtures. They live under {@code -Dlayerfs.bench.dir} (default
 * /var/tmp, which is disk-backed on Debian, unlike a tmpfs /tmp), so copy-up and fsync cost what
 * they cost on a real filesystem.
 */
public final class BenchDirs {
    private BenchDirs() {
    }

    /** A new, empty directory named after what it is for. */
    public static Path create(String purpose) {
        try {
            Path base = Path.of(System.getProperty("layerfs.bench.dir", "/var/tmp"));
            Files.createDirectories(base);
            return Files.createTempDirectory(base, "layerfs-bench-" + purpose + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes dir and everything under it; no-op if dir is null or gone. Symlinks are not followed. */
    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Empties dir (keeps dir itself). */
    public static void clear(Path dir) {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path p : (Iterable<Path>) children::iterator) {
                delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
