package io.layerfs.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Mount bookkeeping shared by the kit: who is mounted where (from /proc/self/mountinfo), running the
 * mount helpers, and deleting scratch trees without ever reaching through a mount point that is
 * still live. No JUnit here, so benchmarks can use it; the test gate is {@link MountTests}.
 */
public final class Mounts {
    private Mounts() {
    }

    /** The effective uid of this process (from /proc/self/status). */
    public static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[2]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }

    /** Mount points of this mount namespace, decoded (mountinfo escapes space, tab, newline, backslash). */
    public static List<Path> mountPoints() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4) {
                out.add(Path.of(unescape(f[4])));
            }
        }
        return out;
    }

    public static boolean isMounted(Path mountpoint) throws IOException {
        Path p = mountpoint.toAbsolutePath().normalize();
        return mountPoints().contains(p);
    }

    /** True if anything is mounted at dir or below it. */
    public static boolean anyMountUnder(Path dir) throws IOException {
        Path p = dir.toAbsolutePath().normalize();
        for (Path m : mountPoints()) {
            if (m.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Runs a helper program; returns its exit status, with stdout+stderr in the given list. */
    static int run(List<String> command, List<String> output) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] all;
        try {
            all = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        String text = new String(all, StandardCharsets.UTF_8).strip();
        if (!text.isEmpty()) {
            output.add(text);
        }
        return p.exitValue();
    }

    /**
     * Unmounts mountpoint with umount(8), retrying a busy mount for a few seconds (a just-closed file
     * can hold it briefly). Never lazy: a mount that cannot be detached is an error to see.
     */
    public static void unmount(Path mountpoint) throws IOException {
        List<String> out = new ArrayList<>();
        for (int attempt = 0; attempt < 50; attempt++) {
            if (!isMounted(mountpoint)) {
                return;
            }
            out.clear();
            if (run(List.of("umount", mountpoint.toString()), out) == 0) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (isMounted(mountpoint)) {
            throw new IOException("umount " + mountpoint + " failed: " + String.join("; ", out));
        }
    }

    /**
     * Deletes a scratch tree (no symlink following). Refuses while anything is mounted under it, so a
     * failed unmount can never turn into deleting the contents of a layer through a live union.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (anyMountUnder(dir)) {
            throw new IOException("not deleting " + dir + ": a file system is still mounted under it");
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
