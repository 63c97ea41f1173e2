package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

import io.layerfs.inspect.Rules;
import picocli.CommandLine;

/**
 * The layers of a live mount, for {@code --mount MERGED}: kernel overlayfs lists them in its mount
 * options (/proc/self/mountinfo); a FUSE mount does not, so they come from the command line of the
 * process serving it (/proc/PID/cmdline), fuse-overlayfs or layerfs.
 *
 * <p>Relative layer paths are resolved against the serving process's working directory. A
 * fuse-overlayfs daemon has moved to "/" by then, and the kernel records no directory at all; then
 * the directory is deduced: from the mount point argument (MERGED minus its relative form), or, for
 * the kernel, the nearest ancestor of MERGED under which every relative layer exists (podman mounts
 * from its storage directory, with MERGED inside it).
 */
final class MountedLayers {
    /**
     * @param lowers highest first
     * @param upper  or null
     * @param work   or null
     * @param rules  the rules of the reader serving the mount
     * @param source where the layers were read, for the user
     * @param notes  things to say about the mount (ignored data-only layers, guessed directories)
     */
    record Layers(List<Path> lowers, Path upper, Path work, Rules rules, String source, List<String> notes) {
    }

    /** A process as procfs shows it. cwd is null where it cannot be read. */
    record Proc(long pid, List<String> argv, Path cwd) {
    }

    private MountedLayers() {
    }

    static Layers of(Path merged, Host host) throws CliException {
        Path real;
        try {
            real = merged.toRealPath();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, merged + " does not exist");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "cannot read " + merged + ": " + Preflight.reason(e));
        }
        MountTable.Mount mount;
        try {
            mount = host.mountTable().find(real).orElseThrow(() -> new CliException(ExitCode.NOT_MOUNTED,
                    real + " is not a mount point", "name the directory where the union is mounted"));
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot read the mount table: " + Preflight.reason(e));
        }
        if (mount.fsType().equals("overlay")) {
            return fromOverlayOptions(mount.superOptions(), real, Files::isDirectory);
        }
        if (mount.fsType().startsWith("fuse")) {
            return fromServer(mount.fsType(), real, processes());
        }
        throw new CliException(ExitCode.BAD_MOUNTPOINT, real + " is a " + mount.fsType() + " mount, not an overlay",
                "--mount takes a layerfs, fuse-overlayfs or kernel overlayfs mount");
    }

    // ---- kernel overlayfs ---------------------------------------------------------------------------

    /**
     * From the super options of an overlay line of mountinfo: lowerdir= (':'-separated, "\:" escaped,
     * data-only layers after "::"), lowerdir+=, datadir+=, upperdir=, workdir=, userxattr.
     */
    static Layers fromOverlayOptions(String superOptions, Path merged, Predicate<Path> isDirectory)
            throws CliException {
        List<String> lowers = new ArrayList<>();
        String upper = null;
        String work = null;
        Rules rules = Rules.KERNEL;
        List<String> notes = new ArrayList<>();
        for (String raw : superOptions.split(",")) {
            String item = MountTable.unescape(raw);
            int eq = item.indexOf('=');
            String key = eq < 0 ? item : item.substring(0, eq);
            String value = eq < 0 ? "" : item.substring(eq + 1);
            switch (key) {
                case "lowerdir" -> {
                    int data = value.indexOf("::");
                    if (data >= 0) {
                        notes.add("data-only lower layers (after '::') are not part of the tree and were left out");
                        value = value.substring(0, data);
                    }
                    lowers.addAll(splitLowerdir(value));
                }
                case "lowerdir+" -> lowers.add(value);
                case "datadir+" -> notes.add("data-only layer " + value + " is not part of the tree and was left out");
                case "upperdir" -> upper = value;
                case "workdir" -> work = value;
                case "userxattr" -> rules = Rules.KERNEL_USERXATTR;
                case "redirect_dir" -> {
                    if (value.equals("on") || value.equals("follow")) {
                        notes.add("redirect_dir=" + value + ": renamed directories are followed by the kernel, "
                                + "not by this analysis");
                    }
                }
                default -> {
                }
            }
        }
        if (lowers.isEmpty()) {
            throw new CliException(ExitCode.BAD_LAYER, "the overlay mount at " + merged + " lists no lowerdir");
        }
        List<String> all = new ArrayList<>(lowers);
        if (upper != null) {
            all.add(upper);
        }
        Path base = baseFor(all, merged, isDirectory, notes);
        List<Path> lowerPaths = new ArrayList<>();
        for (String l : lowers) {
            lowerPaths.add(resolve(base, l));
        }
        return new Layers(lowerPaths, upper == null ? null : resolve(base, upper),
                work == null ? null : resolve(base, work), rules, "kernel overlayfs mount options", notes);
    }

    /** Splits on ':' that is not escaped as "\:"; drops the escaping backslashes. */
    static List<String> splitLowerdir(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                cur.append(value.charAt(++i));
            } else if (c == ':') {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    /** The directory relative layer paths are taken from: null if all are absolute. */
    private static Path baseFor(List<String> paths, Path merged, Predicate<Path> isDirectory, List<String> notes)
            throws CliException {
        List<String> relative = paths.stream().filter(p -> !p.startsWith("/")).toList();
        if (relative.isEmpty()) {
            return null;
        }
        for (Path a = merged.getParent(); a != null; a = a.getParent()) {
            boolean all = true;
            for (String r : relative) {
                all &= isDirectory.test(a.resolve(r));
            }
            if (all) {
                notes.add("the mount names its layers relative to the mounting process's directory, which the kernel "
                        + "does not record; they were found under " + a);
                return a;
            }
        }
        throw new CliException(ExitCode.BAD_LAYER, "the overlay mount at " + merged + " names its layers relative to "
                + "a directory the kernel does not record (" + String.join(", ", relative) + ")",
                "name the layers yourself: --lower DIR ... --upper DIR");
    }

    private static Path resolve(Path base, String p) {
        return base == null || p.startsWith("/") ? Path.of(p) : base.resolve(p).normalize();
    }

    // ---- FUSE: the serving process ------------------------------------------------------------------

    static Layers fromServer(String fsType, Path merged, List<Proc> processes) throws CliException {
        // first a server whose own working directory resolves its mount point argument to merged,
        // then one whose relative argument merely ends merged: another mount elsewhere of a directory
        // with the same name (a "merged" of another container) must not be taken for this one
        for (boolean exact : new boolean[] {true, false}) {
            for (Proc p : processes) {
                Optional<Layers> l = serverLayers(p, merged, exact);
                if (l.isPresent()) {
                    return l.get();
                }
            }
        }
        throw new CliException(ExitCode.BAD_MOUNTPOINT, "cannot find the process serving the " + fsType
                + " mount at " + merged + " (layerfs and fuse-overlayfs are recognized)",
                "name the layers yourself: --lower DIR ... --upper DIR");
    }

    /** The layers p serves at merged, if p is a layerfs or fuse-overlayfs server of it. */
    static Optional<Layers> serverLayers(Proc p, Path merged) {
        return serverLayers(p, merged, false);
    }

    /** As {@link #serverLayers(Proc, Path)}; exact: only if p's own directory resolves its mount point to merged. */
    static Optional<Layers> serverLayers(Proc p, Path merged, boolean exact) {
        List<String> argv = p.argv();
        if (argv.isEmpty()) {
            return Optional.empty();
        }
        String exe = Path.of(argv.get(0)).getFileName() == null ? "" : Path.of(argv.get(0)).getFileName().toString();
        try {
            if (exe.equals("fuse-overlayfs")) {
                return fuseOverlayfs(p, merged, exact);
            }
            int main = argv.indexOf(Main.class.getName());
            if (main >= 0) {
                return layerfs(p, argv.subList(main + 1, argv.size()), merged, exact);
            }
        } catch (CliException | InvalidPathException | CommandLine.ParameterException e) {
            return Optional.empty(); // not a command line we can read: not the server we look for
        }
        return Optional.empty();
    }

    private static Optional<Layers> fuseOverlayfs(Proc p, Path merged, boolean exact) throws CliException {
        List<String> options = new ArrayList<>();
        List<String> positional = new ArrayList<>();
        List<String> argv = p.argv();
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("-o") && i + 1 < argv.size()) {
                options.add(argv.get(++i));
            } else if (a.startsWith("-o")) {
                options.add(a.substring(2));
            } else if (!a.startsWith("-")) {
                positional.add(a);
            }
        }
        if (positional.isEmpty()) {
            return Optional.empty();
        }
        Path cwd = matchingCwd(p, positional.get(positional.size() - 1), merged, exact);
        if (cwd == null) {
            return Optional.empty();
        }
        OverlayOptions o = OverlayOptionsParser.parse(options, cwd);
        return Optional.of(new Layers(o.lowers(), o.upper(), o.work(), Rules.LAYERFS,
                "command line of fuse-overlayfs, pid " + p.pid(),
                List.of("fuse-overlayfs reads the same markers as layerfs; its rules were applied")));
    }

    private static Optional<Layers> layerfs(Proc p, List<String> args, Path merged, boolean exact)
            throws CliException {
        String[] a = Main.withImplicitMount(args.toArray(String[]::new), Set.of("mount"));
        if (a.length == 0 || !a[0].equals("mount")) {
            return Optional.empty();
        }
        Path cwd = p.cwd() == null ? Path.of("/") : p.cwd();
        MountCommand m = new MountCommand(LinuxHost.INSTANCE, cwd);
        CommandLine cl = new CommandLine(m);
        cl.setExpandAtFiles(false);
        cl.parseArgs(Arrays.copyOfRange(a, 1, a.length));
        if (m.mountpoint == null || matchingCwd(p, m.mountpoint, merged, exact) == null) {
            return Optional.empty();
        }
        MountRequest r = m.request(new PrintWriter(Writer.nullWriter()));
        return Optional.of(new Layers(r.lowers(), r.upper(), r.work(), Rules.LAYERFS,
                "command line of layerfs, pid " + p.pid(), List.of()));
    }

    /**
     * The working directory against which the mount point argument names merged: the process's own,
     * or, for a relative argument and unless exact, merged without the argument's trailing components.
     * Null if neither.
     */
    static Path matchingCwd(Proc p, String mountpointArg, Path merged, boolean exact) {
        Path arg = Path.of(mountpointArg).normalize();
        if (p.cwd() != null && sameDirectory(p.cwd().resolve(arg).normalize(), merged)) {
            return p.cwd();
        }
        if (!exact && !arg.isAbsolute() && arg.getNameCount() > 0 && merged.endsWith(arg)) {
            int keep = merged.getNameCount() - arg.getNameCount();
            return keep == 0 ? merged.getRoot() : merged.getRoot().resolve(merged.subpath(0, keep));
        }
        return null;
    }

    private static boolean sameDirectory(Path candidate, Path merged) {
        if (candidate.equals(merged)) {
            return true;
        }
        try {
            return candidate.getParent() != null
                    && candidate.getParent().toRealPath().resolve(candidate.getFileName()).equals(merged);
        } catch (IOException e) {
            return false;
        }
    }

    /** Every process whose command line this process may read. */
    static List<Proc> processes() {
        List<Proc> out = new ArrayList<>();
        try (var dirs = Files.newDirectoryStream(Path.of("/proc"), e -> e.getFileName().toString().matches("\\d+"))) {
            for (Path d : dirs) {
                try {
                    byte[] raw = Files.readAllBytes(d.resolve("cmdline"));
                    if (raw.length == 0) {
                        continue; // a kernel thread
                    }
                    List<String> argv = new ArrayList<>(Arrays.asList(
                            new String(raw, StandardCharsets.UTF_8).split("\0")));
                    Path cwd;
                    try {
                        cwd = Files.readSymbolicLink(d.resolve("cwd"));
                    } catch (IOException | UnsupportedOperationException e) {
                        cwd = null;
                    }
                    out.add(new Proc(Long.parseLong(d.getFileName().toString()), argv, cwd));
                } catch (IOException gone) {
                    // exited meanwhile, or not ours to read
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
