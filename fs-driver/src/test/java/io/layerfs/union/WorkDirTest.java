package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The workdir: exclusive to one mount, cleared of an interrupted mount's leftovers. */
class WorkDirTest {
    @TempDir
    Path tmp;

    private UnionConfig config() throws IOException {
        return new UnionConfig(List.of(Files.createDirectories(tmp.resolve("lower"))),
                Files.createDirectories(tmp.resolve("upper")), Files.createDirectories(tmp.resolve("work")));
    }

    @Test
    void open_withLeftoversInWorkdir_clearsThem() throws Exception {
        UnionConfig c = config();
        Path leftovers = Files.createDirectories(tmp.resolve("work/work/#lfs1/deep"));
        Files.writeString(leftovers.resolve("half-copied"), "partial");
        Files.writeString(tmp.resolve("work/work/#lfs2"), "partial");
        try (UnionFs fs = UnionFs.open(c)) {
            try (Stream<Path> st = Files.list(tmp.resolve("work/work"))) {
                assertEquals(0, st.count());
            }
            assertTrue(fs.list("/").isEmpty(), "leftovers never show in the union");
        }
    }

    @Test
    void open_sameWorkdirTwice_refusedWhileFirstIsOpen() throws Exception {
        UnionConfig c = config();
        try (UnionFs first = UnionFs.open(c)) {
            IOException e = assertThrows(IOException.class, () -> UnionFs.open(c));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        UnionFs.open(c).close();
    }

    @Test
    void open_workdirOnAnotherFilesystem_refused() throws Exception {
        Path lower = Files.createDirectories(tmp.resolve("lower"));
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        IOException e = assertThrows(IOException.class,
                () -> UnionFs.open(new UnionConfig(List.of(lower), upper, Path.of("/dev/shm"))));
        assertTrue(e.getMessage().contains("same filesystem"), e.getMessage());
    }

    @Test
    void mkdir_setgidWorkdir_newDirectoryKeepsTheCallersGroup() throws Exception {
        UnionConfig c = config();
        Path work = tmp.resolve("work");
        Files.setAttribute(work, "unix:gid", 1234);
        Files.setAttribute(work, "unix:mode", 02775);
        try (UnionFs fs = UnionFs.open(c)) {
            fs.mkdir("/d", 0755, new Caller(0, 0)); // made in the workdir, renamed into the upper
        }
        assertEquals(0, (int) (Integer) Files.getAttribute(tmp.resolve("upper/d"), "unix:gid"));
        int mode = (Integer) Files.getAttribute(tmp.resolve("upper/d"), "unix:mode");
        assertFalse((mode & 02000) != 0, "no set-group-ID bit from the workdir: " + Integer.toOctalString(mode));
        assertEquals(0755, mode & 07777);
    }
}
