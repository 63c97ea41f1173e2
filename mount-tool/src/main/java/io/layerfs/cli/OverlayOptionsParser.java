package io.layerfs.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses the {@code -o} arguments of the fuse-overlayfs command line, the form podman and buildah
 * use for {@code overlay.mount_program}: {@code -o lowerdir=A:B,upperdir=U,workdir=W[,more]}, maybe
 * several {@code -o}. Like fuse-overlayfs, an unknown option is a warning, not an error, so a newer
 * podman does not break us. Parse-only: touches no file.
 *
 * <p>Splitting: items are separated by commas; a comma inside double quotes (an SELinux
 * {@code context="...:c1,c2"}) or escaped as {@code \,} does not split. Empty items ({@code ,,})
 * are skipped. {@code lowerdir} is split on every {@code ':'}.
 */
final class OverlayOptionsParser {
    /** Mount flags and libfuse options handed to libfuse as they are. */
    private static final Set<String> FUSE_FLAGS = Set.of(
            "ro", "rw", "allow_other", "allow_root", "default_permissions", "auto_unmount", "nonempty",
            "suid", "nosuid", "dev", "nodev", "exec", "noexec", "atime", "noatime", "sync", "async", "dirsync",
            "kernel_cache", "auto_cache", "noauto_cache", "direct_io", "big_writes", "writeback_cache", "no_writeback_cache",
            "no_open", "async_read", "sync_read", "splice_read", "splice_write", "splice_move");
    private static final Set<String> FUSE_KEYS = Set.of(
            "fsname", "subtype", "max_read", "max_write", "max_readahead", "umask",
            "entry_timeout", "negative_timeout", "attr_timeout", "ac_attr_timeout", "no_open", "open_files");

    /**
     * fuse-overlayfs and kernel overlayfs tuning that has no meaning here, accepted silently:
     * {@code volatile}/{@code fsync=0} (handled above) only relax durability, the others select features layerfs
     * either always has or does not offer.
     */
    private static final Set<String> NO_OP_FLAGS = Set.of(
            "volatile", "noacl", "acl", "static_nlink", "userxattr");
    private static final Set<String> NO_OP_KEYS = Set.of(
            "fsync", "noxattrs", "fast_ino", "threaded", "timeout", "xattr_permissions",
            "plugins", "redirect_dir", "index", "metacopy", "xino", "nfs_export");

    /** Accepted so the mount works, but they change what callers see, so ignoring them is said aloud. */
    private static final Set<String> UNSUPPORTED = Set.of(
            "uidmapping", "gidmapping", "squash_to_root", "squash_to_uid", "squash_to_gid",
            "context", "fscontext", "defcontext", "rootcontext");

    private OverlayOptionsParser() {
    }

    /**
     * @param optionArgs the values of every {@code -o}, in command-line order
     * @param cwd        directory that relative layer paths are resolved against
     */
    static OverlayOptions parse(List<String> optionArgs, Path cwd) throws CliException {
        List<Path> lowers = List.of();
        Path upper = null;
        Path work = null;
        List<String> fuse = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        boolean isVolatile = false;
        for (String arg : optionArgs) {
            for (String item : split(arg)) {
                int eq = item.indexOf('=');
                String key = eq < 0 ? item : item.substring(0, eq);
                String value = eq < 0 ? null : item.substring(eq + 1);
                switch (key) {
                    case "lowerdir" -> lowers = lowerdirs(required(key, value), cwd);
                    case "upperdir" -> upper = path(key, required(key, value), cwd);
                    case "workdir" -> work = path(key, required(key, value), cwd);
                    case "volatile" -> {
                        if (value == null) {
                            isVolatile = true;
                        } else {
                            warnings.add("ignoring unknown option " + item);
                        }
                    }
                    case "writeback" -> { // fuse-overlayfs's switch of the kernel's write cache
                        if ("0".equals(value)) {
                            fuse.add("no_writeback_cache");
                        } else if (!"1".equals(value)) {
                            warnings.add("ignoring unknown option " + item);
                        }
                    }
                    case "fsync" -> {
                        if (value == null) {
                            warnings.add("ignoring unknown option " + item);
                        } else if ("0".equals(value)) {
                            isVolatile = true;
                        }
                    }
                    default -> {
                        if (value == null ? FUSE_FLAGS.contains(key) : FUSE_KEYS.contains(key)) {
                            fuse.add(item);
                        } else if (UNSUPPORTED.contains(key)) {
                            warnings.add("ignoring unsupported option " + item);
                        } else if (!(value == null ? NO_OP_FLAGS.contains(key) : NO_OP_KEYS.contains(key))) {
                            warnings.add("ignoring unknown option " + item);
                        }
                    }
                }
            }
        }
        return new OverlayOptions(lowers, upper, work, fuse, warnings, isVolatile);
    }

    /**
     * Splits one {@code -o} value into items, keeping quotes and backslashes in the items (libfuse
     * wants fuse options escaped the same way); {@link #unescape} removes them from paths.
     */
    static List<String> split(String arg) {
        List<String> items = new ArrayList<>();
        StringBuilder item = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c == '\\' && i + 1 < arg.length()) {
                item.append(c).append(arg.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                item.append(c);
            } else if (c == ',' && !quoted) {
                addItem(items, item);
            } else {
                item.append(c);
            }
        }
        addItem(items, item);
        return items;
    }

    private static void addItem(List<String> items, StringBuilder item) {
        if (item.length() > 0) {
            items.add(item.toString());
        }
        item.setLength(0);
    }

    /** Drops double quotes and the backslash of each escaped character. */
    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                out.append(s.charAt(++i));
            } else if (c != '"') {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String required(String key, String value) throws CliException {
        if (value == null || value.isEmpty()) {
            throw new CliException(ExitCode.USAGE, key + "= needs a directory",
                    "for example -o lowerdir=/layers/top:/layers/base,upperdir=/c/upper,workdir=/c/work");
        }
        return value;
    }

    private static List<Path> lowerdirs(String value, Path cwd) throws CliException {
        List<Path> lowers = new ArrayList<>();
        // -1 keeps trailing empty entries, so "A:" is reported rather than silently shortened.
        for (String entry : value.split(":", -1)) {
            if (entry.isEmpty()) {
                throw new CliException(ExitCode.USAGE, "empty directory in lowerdir=" + value);
            }
            lowers.add(path("lowerdir", entry, cwd));
        }
        return lowers;
    }

    private static Path path(String key, String raw, Path cwd) throws CliException {
        String text = unescape(raw);
        if (text.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "empty directory in " + key + "=" + raw);
        }
        try {
            return cwd.resolve(text);
        } catch (InvalidPathException e) {
            throw new CliException(ExitCode.USAGE, "bad path in " + key + "=: " + e.getMessage());
        }
    }
}
