package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;

import org.junit.jupiter.api.Test;

/** Finding a layerfs mount's device number in the text of /proc/self/mountinfo. */
class ReadaheadTest {
    private static final String MOUNTINFO = String.join("\n",
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "40 22 0:39 / /c/merged rw,nosuid,nodev,relatime shared:20 - fuse.layerfs layerfs rw,user_id=0,group_id=0",
            "41 22 0:40 / /c/merged rw,nosuid,nodev,relatime - fuse.fuse-overlayfs fuse-overlayfs rw",
            "42 22 0:41 / /a\\040b rw,relatime - fuse.layerfs layerfs rw",
            "43 22 0:42 / /twice rw - fuse.layerfs layerfs rw",
            "44 22 0:43 / /twice rw - fuse.layerfs layerfs rw", "");

    @Test
    void device_layerfsMount_itsMajorMinor() {
        assertEquals(Optional.of("0:39"), Readahead.device(MOUNTINFO, "/c/merged"));
    }

    @Test
    void device_escapedSpaceInMountPoint_found() {
        assertEquals(Optional.of("0:41"), Readahead.device(MOUNTINFO, "/a b"));
    }

    @Test
    void device_mountedOverTwice_theTopMount() {
        assertEquals(Optional.of("0:43"), Readahead.device(MOUNTINFO, "/twice"));
    }

    @Test
    void device_otherFilesystemOrNoMount_empty() {
        assertEquals(Optional.empty(), Readahead.device(MOUNTINFO, "/"));
        assertEquals(Optional.empty(), Readahead.device(MOUNTINFO, "/nowhere"));
    }

    @Test
    void majorMinor_smallAndLargeNumbers_asTheKernelEncodesThem() {
        assertEquals("0:39", Readahead.majorMinor(39));
        assertEquals("254:0", Readahead.majorMinor(254 << 8));
        long major = 4097;
        long minor = 1_048_577;
        long dev = ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
        assertEquals("4097:1048577", Readahead.majorMinor(dev));
    }
}
