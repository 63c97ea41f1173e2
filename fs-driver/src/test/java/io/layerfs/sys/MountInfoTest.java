package io.layerfs.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Picking the lines of one mount point out of /proc/self/mountinfo text without splitting the rest.
 *
 * <pre>
 *   /              ext4
 *   /c/merged      fuse.layerfs, and a fuse-overlayfs mounted over it
 *   /c/merged2     (a longer name with the same start)
 *   /c             (a shorter one)
 *   /a b\tc\\d     (a space, a tab and a backslash, written as octal)
 * </pre>
 */
class MountInfoTest {
    private static final String TEXT = String.join("\n",
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "40 22 0:39 / /c/merged rw,nosuid shared:20 - fuse.layerfs layerfs rw,user_id=0",
            "41 22 0:40 / /c/merged2 rw - fuse.layerfs layerfs rw",
            "42 22 0:41 / /c rw - tmpfs tmpfs rw",
            "43 22 0:42 / /c/merged rw - fuse.fuse-overlayfs fuse-overlayfs rw",
            "44 22 0:43 / /a\\040b\\011c\\134d rw - fuse.layerfs layerfs rw");

    private static List<String> devices(String mountpoint) {
        return MountInfo.linesAt(TEXT, mountpoint).stream().map(f -> f[2]).toList();
    }

    @Test
    void linesAt_mountedTwice_bothInTheKernelsOrder() {
        assertEquals(List.of("0:39", "0:42"), devices("/c/merged"));
    }

    @Test
    void linesAt_namesThatOnlyShareAStart_notMatched() {
        assertEquals(List.of("0:40"), devices("/c/merged2"));
        assertEquals(List.of("0:41"), devices("/c"));
        assertEquals(List.of(), devices("/c/merge"));
    }

    @Test
    void linesAt_firstLineAndLastLineWithoutNewline_found() {
        assertEquals(List.of("254:0"), devices("/"));
        assertEquals(List.of("0:43"), devices("/a b\tc\\d"));
    }

    @Test
    void linesAt_shortOrEmptyLines_skipped() {
        assertEquals(List.of(), MountInfo.linesAt("\n\n1 2 3\n", "/"));
        assertEquals(List.of(), MountInfo.linesAt("", "/"));
    }

    @Test
    void escape_isTheInverseOfUnescape() {
        String name = "/a b\tc\nd\\e";
        assertEquals("/a\\040b\\011c\\012d\\134e", MountInfo.escape(name));
        assertEquals(name, MountInfo.unescape(MountInfo.escape(name)));
    }
}
