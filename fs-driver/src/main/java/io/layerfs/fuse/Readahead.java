package io.layerfs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import io.layerfs.sys.MountInfo;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Raises the readahead of one FUSE mount to the size of its largest request.
 *
 * <p>The kernel gives a FUSE mount's backing device (bdi) the system's default readahead, 128 KiB,
 * and FUSE_INIT can only lower it. A sequential reader then gets 128 KiB READ requests however big
 * the requests may be (1 MiB with the /dev/fuse binding): eight round trips where one would do.
 * The bdi of a mount is {@code /sys/class/bdi/MAJOR:MINOR}, MAJOR:MINOR being the mount's device
 * number: the st_dev of its root, stat'ed by the mounting thread once INIT is answered (a request
 * the server's readers answer), or else found in /proc/self/mountinfo, which on a host of
 * thousands of mounts takes milliseconds to read. Raising it needs root; when it cannot be done
 * nothing changes but the request size. It must happen before the mount is announced: a file
 * takes its readahead from the bdi when it is opened.
 */
final class Readahead {
    static final String FSTYPE = "fuse.layerfs";

    private Readahead() {
    }

    /**
     * Sets the readahead of the layerfs mount at {@code mountpoint} to {@code kib} unless it is
     * that big already. Returns what was done, for the log.
     */
    static String raise(Path mountpoint, int kib) {
        Optional<String> device;
        try {
            device = Optional.of(majorMinor(Sys.get().lstat(Sys.AT_FDCWD, mountpoint.toString()).dev));
        } catch (SysException notStated) {
            try {
                device = device(Files.readString(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8),
                        mountpoint.toString());
            } catch (IOException e) {
                return "readahead left as it is: cannot read /proc/self/mountinfo: " + e.getMessage();
            }
        }
        if (device.isEmpty()) {
            return "readahead left as it is: " + mountpoint + " is not in /proc/self/mountinfo";
        }
        Path file = Path.of("/sys/class/bdi", device.get(), "read_ahead_kb");
        try {
            int now = Integer.parseInt(Files.readString(file).trim());
            if (now >= kib) {
                return "readahead " + now + " KiB (" + file + ")";
            }
            Files.writeString(file, Integer.toString(kib));
            return "readahead " + now + " -> " + kib + " KiB (" + file + ")";
        } catch (IOException | NumberFormatException e) {
            return "readahead left as it is: " + file + ": " + e.getMessage();
        }
    }

    /** A dev_t as MAJOR:MINOR (glibc's gnu_dev_major and gnu_dev_minor). */
    static String majorMinor(long dev) {
        long major = ((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL);
        long minor = ((dev >>> 12) & 0xffffff00L) | (dev & 0xffL);
        return major + ":" + minor;
    }

    /**
     * The device number (MAJOR:MINOR) of the last layerfs mount at {@code mountpoint} in the text
     * of /proc/self/mountinfo (proc(5): mount ID, parent ID, MAJOR:MINOR, root, mount point,
     * options, optional fields, "-", filesystem type, ...); the mount point has space, tab,
     * newline and backslash escaped as octal.
     */
    static Optional<String> device(String mountinfo, String mountpoint) {
        String found = null;
        for (String[] f : MountInfo.linesAt(mountinfo, mountpoint)) {
            if (f.length < 7) {
                continue;
            }
            int dash = List.of(f).indexOf("-");
            if (dash > 0 && dash + 1 < f.length && f[dash + 1].equals(FSTYPE)) {
                found = f[2];
            }
        }
        return Optional.ofNullable(found);
    }
}
