package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Errno;
import io.layerfs.sys.SysException;

/**
 * {@link UnionFs#opendir} takes no listing; the first {@link UnionFs#readdir} takes it, from the
 * directory's name at that moment, and later calls return the same one.
 * <pre>
 *   upper/   d/up
 *   lower 0/ d/low, f
 * </pre>
 */
class OpenDirTest {
    @TempDir
    Path tmp;

    private UnionFs open() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "d/low", "l").file(s.lower(0), "f", "f").file(s.upper, "d/up", "u");
        return UnionFs.open(s.config());
    }

    private static List<String> names(List<DirItem> items) {
        return items.stream().map(i -> i.name).sorted().toList();
    }

    @Test
    void readdir_takesListingAtFirstCall_thenKeepsIt() throws Exception {
        try (UnionFs fs = open()) {
            long h = fs.opendir("/d");
            fs.mkdir("/d/new", 0755, Caller.ROOT);
            assertEquals(List.of("low", "new", "up"), names(fs.readdir(h, "/d")), "listed at the first readdir");
            fs.unlink("/d/low");
            assertEquals(List.of("low", "new", "up"), names(fs.readdir(h, "/d")), "offsets stay stable");
            fs.releasedir(h);
            assertThrows(SysException.class, () -> fs.readdir(h, "/d"), "released");
            assertEquals(List.of("new", "up"), names(fs.list("/d")));
        }
    }

    @Test
    void readdir_afterRename_listsTheDirectoryUnderItsNewName() throws Exception {
        try (UnionFs fs = open()) {
            long h = fs.opendir("/d");
            fs.rename("/d", "/e");
            assertEquals(List.of("low", "up"), names(fs.readdir(h, "/e")));
        }
    }

    @Test
    void readdir_ofDirectoryRemovedAfterOpen_isEmpty() throws Exception {
        try (UnionFs fs = open()) {
            fs.unlink("/d/low");
            fs.unlink("/d/up");
            long h = fs.opendir("/d");
            fs.rmdir("/d");
            assertEquals(List.of(), fs.readdir(h, "/d"));
        }
    }

    @Test
    void opendir_ofMissingOrFile_fails() throws Exception {
        try (UnionFs fs = open()) {
            SysException missing = assertThrows(SysException.class, () -> fs.opendir("/none"));
            assertEquals(Errno.ENOENT, missing.errno());
            SysException file = assertThrows(SysException.class, () -> fs.opendir("/f"));
            assertEquals(Errno.ENOTDIR, file.errno());
        }
    }
}
