package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Errno;
import io.layerfs.sys.SysException;

/**
 * A rename or link of a lower file that fails, or does nothing, copies no data: its checks run
 * before the copy-up is built. Counted through the copy-up's progress hook, which sees every chunk
 * of every copy (placed or thrown away).
 */
class FailingCopyUpTest {
    @TempDir
    Path tmp;

    private Stack s;
    private final AtomicLong copied = new AtomicLong();

    @BeforeEach
    void layers() throws Exception {
        s = new Stack(tmp, 1);
        s.file(s.lower(0), "other", "o").file(s.lower(0), "full/x", "x");
        Files.write(s.lower(0).resolve("big"), new byte[(int) (2 * CopyUp.CHUNK)]);
        Files.createDirectories(s.lower(0).resolve("dir"));
        Files.createLink(s.lower(0).resolve("big2"), s.lower(0).resolve("big"));
    }

    private UnionFs open() throws Exception {
        UnionFs fs = UnionFs.open(s.config());
        fs.copyUpProgress((rel, bytes) -> copied.addAndGet(1));
        return fs;
    }

    @Test
    void failingOrEmptyRenamesAndLinks_copyNothing() throws Exception {
        try (UnionFs fs = open()) {
            assertEquals(Errno.EISDIR, errnoOf(() -> fs.rename("/big", "/dir")));
            assertEquals(Errno.EISDIR, errnoOf(() -> fs.rename("/big", "/full")));
            assertEquals(Errno.ENOENT, errnoOf(() -> fs.rename("/big", "/missing/big")));
            assertEquals(Errno.ENOTDIR, errnoOf(() -> fs.rename("/big", "/other/big")));
            assertEquals(Errno.EEXIST, errnoOf(() -> fs.link("/big", "/other")));
            fs.rename("/big", "/big2"); // two names of one file: nothing to do

            assertEquals(0, copied.get(), "chunks copied");
            assertTrue(Files.notExists(s.upper.resolve("big")));
            assertEquals(2 * CopyUp.CHUNK, fs.getattr("/big").size);
        }
    }

    private static int errnoOf(Executable call) {
        return assertThrows(SysException.class, call).errno();
    }

    /** The hook does count: the same rename to a free name copies the file. */
    @Test
    void renameToAFreeName_copies() throws Exception {
        try (UnionFs fs = open()) {
            fs.rename("/big", "/moved");

            assertTrue(copied.get() > 0, "chunks copied");
            assertEquals(2 * CopyUp.CHUNK, Files.size(s.upper.resolve("moved")));
            assertEquals(Errno.ENOENT, errnoOf(() -> fs.getattr("/big")));
        }
    }
}
