package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;

/**
 * st_ino on a real mount: stable across copy-up and across unmount and remount of the same upper,
 * the same from stat and from readdir, and shared by hard links after one name is copied up.
 * <pre>
 *   lower/f          a file
 *   lower/d/x        a directory with a file
 *   lower/a, lower/b two names of one file (nlink 2)
 *   lower/s          a symlink
 * </pre>
 * A copied-up symlink keeps its number until unmount only: it cannot carry the origin xattr.
 */
class InodeNumbersMountTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private Path lower;
    private Path upper;
    private Path work;
    private Path mnt;

    @BeforeEach
    void layers() throws IOException {
        MountTests.requireFuse();
        lower = Files.createDirectory(tmp.resolve("lower"));
        Files.writeString(lower.resolve("f"), "f");
        Files.createDirectory(lower.resolve("d"));
        Files.writeString(lower.resolve("d/x"), "x");
        Files.writeString(lower.resolve("a"), "one file, two names");
        Files.createLink(lower.resolve("b"), lower.resolve("a"));
        Files.createSymbolicLink(lower.resolve("s"), Path.of("f"));
        upper = Files.createDirectory(tmp.resolve("upper"));
        work = Files.createDirectory(tmp.resolve("work"));
        mnt = Files.createDirectory(tmp.resolve("mnt"));
    }

    private AutoCloseable mount() throws IOException {
        return new LayerfsMounter().mount(List.of(lower), upper, work, mnt);
    }

    private Stat stat(String rel) throws Exception {
        return SYS.lstat(Sys.AT_FDCWD, mnt.resolve(rel).toString());
    }

    private Map<String, Long> numbers(String... rels) throws Exception {
        Map<String, Long> out = new HashMap<>();
        for (String rel : rels) {
            out.put(rel, stat(rel).ino);
        }
        return out;
    }

    /** d_ino of each name in dir, as readdir gives it (ls -i, find -inum). */
    private Map<String, Long> readdirNumbers(String dir) throws Exception {
        Map<String, Long> out = new HashMap<>();
        for (DirEntry d : SYS.listDir(Sys.AT_FDCWD, mnt.resolve(dir).toString())) {
            if (!d.name.equals(".") && !d.name.equals("..")) {
                out.put(d.name.isEmpty() ? d.name : (dir.equals(".") ? d.name : dir + "/" + d.name), d.ino);
            }
        }
        return out;
    }

    @Test
    void stIno_stableAcrossCopyUpAndRemount_readdirAgrees_hardLinksStayOneFile() throws Exception {
        String[] names = {"f", "d", "d/x", "a", "b", "s"};
        Map<String, Long> before;
        try (AutoCloseable m = mount()) {
            before = numbers(names);
            assertEquals(before.get("a"), before.get("b"), "hard links share st_ino");
            assertEquals(2, stat("a").nlink);

            Files.writeString(mnt.resolve("f"), "changed");          // copy-up of a file
            Files.writeString(mnt.resolve("d/new"), "new");          // copy-up of a directory
            Files.writeString(mnt.resolve("a"), "written via a");    // copy-up of one name of two
            SYS.lchownat(Sys.AT_FDCWD, mnt.resolve("s").toString(), 1000, 1000); // copy-up of a symlink

            assertEquals(before, numbers(names), "after copy-up");
            assertEquals("written via a", Files.readString(mnt.resolve("b")));
            assertEquals(2, stat("a").nlink);
            assertEquals(2, stat("b").nlink);
        }
        assertEquals(SYS.lstat(Sys.AT_FDCWD, upper.resolve("a").toString()).ino,
                SYS.lstat(Sys.AT_FDCWD, upper.resolve("b").toString()).ino, "one file in the upper");

        try (AutoCloseable m = mount()) {
            Map<String, Long> listed = readdirNumbers(".");
            listed.putAll(readdirNumbers("d"));
            Map<String, Long> stable = new HashMap<>(before);
            stable.remove("s");
            Map<String, Long> now = numbers(names);
            now.remove("s");
            assertEquals(stable, now, "after remount");
            for (String n : stable.keySet()) {
                assertEquals(before.get(n), listed.get(n), "readdir d_ino of " + n);
            }
            assertEquals("written via a", Files.readString(mnt.resolve("b")));
            assertEquals(2, stat("b").nlink);

            Files.move(mnt.resolve("f"), mnt.resolve("d/f-renamed"));
            assertEquals(before.get("f"), stat("d/f-renamed").ino, "a rename keeps st_ino");
        }
        try (AutoCloseable m = mount()) {
            assertEquals(before.get("f"), stat("d/f-renamed").ino, "a renamed copy keeps st_ino after remount");
        }
    }
}
