package io.layerfs.union;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.contract.Stack;
import io.layerfs.sys.Sys;

/**
 * {@link UnionFs#close} closes the files still open through it: a binding may never release a file
 * whose RELEASE the kernel dropped at unmount, and the layers' filesystems must not stay busy.
 * <pre>
 *   upper/   up "u"
 *   lower 0/ low "l"
 * </pre>
 */
class CloseReleasesFilesTest {
    @TempDir
    Path tmp;

    private static String target(long fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "closed";
        }
    }

    @Test
    void close_closesFilesNotReleased_andNotTheReleasedOnesAgain() throws Exception {
        Stack s = new Stack(tmp, 1);
        s.file(s.lower(0), "low", "l").file(s.upper, "up", "u");
        UnionFs fs = UnionFs.open(s.config());
        long low = fs.open("/low", Sys.O_RDONLY);
        long up = fs.open("/up", Sys.O_RDWR);
        long made = fs.create("/new", 0644, Sys.O_WRONLY | Sys.O_CREAT, Caller.ROOT);
        long released = fs.open("/up", Sys.O_RDONLY);
        fs.release(released);
        String upPath = s.upper.resolve("up").toRealPath().toString();
        assertEquals(upPath, target(up));
        assertEquals(s.upper.resolve("new").toRealPath().toString(), target(made));
        fs.close();
        assertNotEquals(upPath, target(up), "closed by close()");
        assertNotEquals(s.lower(0).resolve("low").toRealPath().toString(), target(low));
        assertNotEquals(s.upper.resolve("new").toRealPath().toString(), target(made));
    }
}
