package io.layerfs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.layerfs.sys.MountInfo;

/**
 * The mounts listed in {@code /proc/self/mountinfo} (proc(5)): what is mounted where, as the
 * kernel sees it now, which unlike {@code /etc/mtab} includes FUSE mounts made by any process.
 */
final class MountTable {
    /**
     * One mountinfo line: the mount point and, after the " - " separator, type, source and the
     * filesystem's own options. superOptions is as the kernel wrote it: items split on ',' first,
     * then {@link #unescape}d (a ',' inside a value is written as \054). device is the
     * filesystem's "major:minor" (field 3); for FUSE it names the connection in fusectl.
     */
    record Mount(Path mountPoint, String fsType, String source, String superOptions, String device) {
    }

    private final List<Mount> mounts;

    private MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    /** Parses mountinfo text; lines it cannot read are skipped rather than failing the command. */
    static MountTable parse(String mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            Mount m = mount(line.split(" "));
            if (m != null) {
                mounts.add(m);
            }
        }
        return new MountTable(mounts);
    }

    /**
     * The mount on top at mountPoint in mountinfo text, as {@link #find} would find it, reading
     * only the lines of that mount point (see {@link MountInfo#linesAt}).
     */
    static Optional<Mount> at(String mountinfo, Path mountPoint) {
        Mount top = null;
        for (String[] f : MountInfo.linesAt(mountinfo, mountPoint.toString())) {
            Mount m = mount(f);
            if (m != null) {
                top = m;
            }
        }
        return Optional.ofNullable(top);
    }

    /** One line's fields, or null if they are not a mountinfo line. */
    private static Mount mount(String[] f) {
        int dash = List.of(f).indexOf("-");
        // Fields: id parent major:minor root mountpoint options [optional...] - type source superoptions
        if (dash < 6 || f.length < dash + 3) {
            return null;
        }
        return new Mount(Path.of(unescape(f[4])), unescape(f[dash + 1]), unescape(f[dash + 2]),
                f.length > dash + 3 ? f[dash + 3] : "", f[2]);
    }

    List<Mount> mounts() {
        return mounts;
    }

    /**
     * The mount on top at mountPoint (later lines are mounted over earlier ones), if any.
     * mountPoint must be absolute and free of symlinks, like the paths the kernel lists.
     */
    Optional<Mount> find(Path mountPoint) {
        Mount top = null;
        for (Mount m : mounts) {
            if (m.mountPoint().equals(mountPoint)) {
                top = m;
            }
        }
        return Optional.ofNullable(top);
    }

    /** The kernel writes space, tab, newline and backslash in paths as three-digit octal escapes. */
    static String unescape(String field) {
        return MountInfo.unescape(field);
    }
}
