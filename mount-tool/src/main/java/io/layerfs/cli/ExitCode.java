package io.layerfs.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The exit status of every {@code layerfs} command. Scripts (and podman, which only looks for
 * non-zero) can tell a bad command line from a bad layer from a missing FUSE setup. The
 * {@code --help} footers are generated from this list, so the table there cannot drift.
 *
 * <p>{@link #FINDINGS} is the one code shared: {@code lint} answers 1 for "problems found", as
 * diff(1) answers 1 for "files differ"; lint itself never fails with 1 (a layer it cannot read is
 * {@link #BAD_LAYER}).
 */
enum ExitCode {
    OK(0, "success"),
    FAILURE(1, "the command failed (mount, unmount, store I/O, convert)"),
    FINDINGS(1, "lint: problems were found"),
    USAGE(2, "bad command line or -o option"),
    BAD_LAYER(3, "a layer directory is missing, misplaced or not a directory"),
    BAD_MOUNTPOINT(4, "mount point missing, not a directory, busy, or not FUSE"),
    NOT_MOUNTED(5, "umount, --mount: nothing is mounted there"),
    NO_FUSE(6, "no /dev/fuse (or no libfuse2 with LAYERFS_FUSE_BINDING=jnr)"),
    NOT_FOUND(7, "no such image, layer or container in the store"),
    BAD_IMAGE(8, "an image or layer was refused: bad digest or content");

    final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The help footer's table, one line per code. */
    static List<String> helpTable() {
        List<String> lines = new ArrayList<>();
        lines.add("Exit codes:");
        for (ExitCode c : values()) {
            lines.add(String.format("  %d  %-15s %s", c.code, c.name(), c.meaning));
        }
        return lines;
    }
}
