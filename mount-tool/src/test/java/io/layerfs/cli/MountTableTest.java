package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class MountTableTest {
    // Real lines: optional fields (shared:N) before the "-", an escaped space, two mounts stacked on /mnt/x.
    private static final String MOUNTINFO = String.join("\n",
            "21 26 0:20 / /proc rw,relatime shared:12 - proc proc rw",
            "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "41 26 0:38 / /tmp/my\\040dir/m rw,nosuid,nodev,relatime - fuse.layerfs layerfs rw,user_id=0",
            "50 26 0:40 / /mnt/x rw - tmpfs tmpfs rw",
            "51 50 0:41 / /mnt/x rw master:3 - fuse.layerfs layerfs rw",
            "this line is not mountinfo",
            "");

    private final MountTable table = MountTable.parse(MOUNTINFO);

    @Test
    void parse_readsEveryWellFormedLine() {
        assertEquals(5, table.mounts().size());
    }

    @Test
    void find_unescapesOctalSpaces() {
        MountTable.Mount m = table.find(Path.of("/tmp/my dir/m")).orElseThrow();

        assertEquals("fuse.layerfs", m.fsType());
        assertEquals("layerfs", m.source());
    }

    @Test
    void find_stackedMounts_returnsTheTopOne() {
        assertEquals("fuse.layerfs", table.find(Path.of("/mnt/x")).orElseThrow().fsType());
    }

    @Test
    void find_optionalFields_doNotShiftTheType() {
        assertEquals("ext4", table.find(Path.of("/")).orElseThrow().fsType());
        assertEquals("proc", table.find(Path.of("/proc")).orElseThrow().fsType());
    }

    @Test
    void find_notAMountPoint_isEmpty() {
        assertTrue(table.find(Path.of("/tmp")).isEmpty());
        assertTrue(table.find(Path.of("/tmp/my dir")).isEmpty());
    }

    @Test
    void unescape_leavesOtherBackslashesAlone() {
        assertEquals("a b\\c\\9x\\", MountTable.unescape("a\\040b\\134c\\9x\\"));
    }

    @Test
    void at_everyMountPointAndSomeThatAreNot_sameAsFind() {
        for (String p : java.util.List.of("/", "/proc", "/tmp/my dir/m", "/mnt/x", "/tmp", "/tmp/my dir", "/mnt")) {
            assertEquals(table.find(Path.of(p)), MountTable.at(MOUNTINFO, Path.of(p)), p);
        }
    }
}
