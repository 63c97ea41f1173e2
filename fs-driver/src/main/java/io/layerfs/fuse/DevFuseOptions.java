package io.layerfs.fuse;

import java.util.List;

import io.layerfs.sys.Sys;

/**
 * The mount options the /dev/fuse binding understands, taken from the same "-o" list libfuse gets:
 * {@code entry_timeout}, {@code attr_timeout}, {@code negative_timeout} (seconds, fractions allowed),
 * {@code ro} and the mount flags {@code [no]suid}, {@code [no]dev}, {@code [no]exec}, {@code [no]atime}
 * (nosuid and nodev by default, as libfuse), and the kernel's write cache: on by default,
 * {@code writeback=0} (fuse-overlayfs's spelling) or {@code no_writeback_cache} (libfuse 3's) turn it
 * off; {@code no_open=0} keeps OPEN and RELEASE requests, which the binding otherwise turns off where
 * the kernel can (see {@link NodeFiles}), and {@code open_files=N} bounds the layer files kept open
 * without them (1024 by default). Other libfuse options (fsname, kernel_cache, big_writes, ...) describe what this
 * binding does anyway or have no meaning without libfuse; they are ignored, but a numeric one
 * (max_read, max_write, umask, ...) with a value that is no number is refused, as libfuse refuses it.
 *
 * <p>Defaults are one day: every change goes through this daemon, which the kernel's caches see,
 * and all names of a hard-linked file share one node, so nothing goes stale behind the kernel.
 */
record DevFuseOptions(long entryTimeoutNanos, long attrTimeoutNanos, long negativeTimeoutNanos, boolean readOnly,
                      long mountFlags, boolean writebackCache, boolean noOpen, int openFiles) {
    static final double DEFAULT_TIMEOUT_SECONDS = 86_400;
    static final int DEFAULT_OPEN_FILES = 1024;
    private static final long MS_RDONLY = Sys.MS_RDONLY;
    private static final long MS_NOSUID = Sys.MS_NOSUID;
    private static final long MS_NODEV = Sys.MS_NODEV;
    private static final long MS_NOEXEC = Sys.MS_NOEXEC;
    private static final long MS_NOATIME = Sys.MS_NOATIME;

    static DevFuseOptions parse(List<String> options, boolean readOnly) {
        double entry = DEFAULT_TIMEOUT_SECONDS;
        double attr = DEFAULT_TIMEOUT_SECONDS;
        double negative = DEFAULT_TIMEOUT_SECONDS;
        boolean ro = readOnly;
        long flags = MS_NOSUID | MS_NODEV; // as libfuse mounts, unless suid or dev is asked for
        boolean writeback = true;
        boolean noOpen = true;
        int openFiles = DEFAULT_OPEN_FILES;
        for (String o : options) {
            for (String item : o.split(",")) {
                int eq = item.indexOf('=');
                String key = eq < 0 ? item : item.substring(0, eq);
                String value = eq < 0 ? "" : item.substring(eq + 1);
                switch (key) {
                    case "entry_timeout" -> entry = seconds(key, value);
                    case "attr_timeout" -> attr = seconds(key, value);
                    case "negative_timeout" -> negative = seconds(key, value);
                    case "ro" -> ro = true;
                    case "suid" -> flags &= ~MS_NOSUID;
                    case "nosuid" -> flags |= MS_NOSUID;
                    case "dev" -> flags &= ~MS_NODEV;
                    case "nodev" -> flags |= MS_NODEV;
                    case "exec" -> flags &= ~MS_NOEXEC;
                    case "noexec" -> flags |= MS_NOEXEC;
                    case "atime" -> flags &= ~MS_NOATIME;
                    case "noatime" -> flags |= MS_NOATIME;
                    case "writeback" -> writeback = flag(key, value);
                    case "writeback_cache" -> writeback = true;
                    case "no_writeback_cache" -> writeback = false;
                    case "no_open" -> noOpen = value.isEmpty() || flag(key, value);
                    case "open_files" -> openFiles = count(key, value);
                    case "max_read", "max_write", "max_readahead", "max_background", "congestion_threshold",
                         "umask", "uid", "gid", "blksize", "ac_attr_timeout" -> number(key, value);
                    default -> {
                        // a libfuse option: what it selects is fixed here, or meaningless
                    }
                }
            }
        }
        return new DevFuseOptions(nanos(entry), nanos(attr), nanos(negative), ro, flags | (ro ? MS_RDONLY : 0),
                writeback, noOpen, openFiles);
    }

    private static int count(String key, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + "=" + value + ": not a number of files (1 or more)");
        }
    }

    private static double seconds(String key, String value) {
        try {
            double v = Double.parseDouble(value);
            if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + "=" + value + ": not a number of seconds");
        }
    }

    /**
     * Whether one option (key or key=value) is about what only this binding has (the kernel's write
     * cache, sessions without OPEN): the libfuse 2 binding drops these, as libfuse 2 refuses a mount with an option it does not
     * know.
     */
    static boolean devFuseOnlyOption(String item) {
        int eq = item.indexOf('=');
        String key = eq < 0 ? item : item.substring(0, eq);
        return key.equals("writeback") || key.equals("writeback_cache") || key.equals("no_writeback_cache")
                || key.equals("no_open") || key.equals("open_files");
    }

    /** 0 or 1, as fuse-overlayfs takes writeback=. */
    private static boolean flag(String key, String value) {
        return switch (value) {
            case "1" -> true;
            case "0" -> false;
            default -> throw new IllegalArgumentException("option " + key + "=" + value + ": not 0 or 1");
        };
    }

    /** A libfuse option this binding ignores must still be well-formed: libfuse refuses the mount otherwise. */
    private static void number(String key, String value) {
        try {
            if (key.equals("ac_attr_timeout")) {
                Double.parseDouble(value);
            } else {
                Long.decode(value);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + "=" + value + ": not a number");
        }
    }

    private static long nanos(double seconds) {
        return (long) (seconds * 1e9);
    }
}
