package io.layerfs.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Moves this process's standard output and error to a file, for the background server once its
 * parent has stopped reading the pipes. It replaces file descriptors 1 and 2 themselves (dup2), so
 * native writers such as libfuse's debug output follow, not only System.out and System.err.
 */
final class Stdio {
    private Stdio() {
    }

    static void redirectTo(Path file) {
        System.out.flush();
        System.err.flush();
        if (!redirectDescriptors(file)) {
            redirectJavaStreams(file);
        }
    }

    private static boolean redirectDescriptors(Path file) {
        try {
            Sys sys = Sys.get();
            int fd = sys.openat(Sys.AT_FDCWD, file.toString(), Sys.O_WRONLY | Sys.O_CREAT | Sys.O_APPEND, 0644);
            try {
                // dup2 clears FD_CLOEXEC on the copies, so 1 and 2 stay open as they should.
                sys.dup2(fd, 1);
                sys.dup2(fd, 2);
                return true;
            } finally {
                sys.close(fd);
            }
        } catch (SysException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Fallback: at least Java's own output leaves the pipes. */
    private static void redirectJavaStreams(Path file) {
        try {
            PrintStream log = new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8);
            System.setOut(log);
            System.setErr(log);
        } catch (IOException e) {
            PrintStream none = new PrintStream(PrintStream.nullOutputStream());
            System.setOut(none);
            System.setErr(none);
        }
    }
}
