package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
