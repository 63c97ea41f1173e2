package io.layerfs.cli;

import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import io.layerfs.fuse.FuseMount;

/**
 * {@code layerfs mount}: turns either command-line form into a {@link MountRequest}, checks it
 * ({@link Preflight}), then serves it in this process ({@code --foreground}) or in a background
 * process that it waits for ({@link BackgroundLauncher}).
 */
@Command(name = "mount", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {
            "Mounts the union of the lower directories and an optional upper directory at MERGED.",
            "",
            "Reads come from the highest layer that has the file; writes go to the upper directory, "
                    + "copying a lower file up first. Deletions leave overlayfs whiteouts in the upper "
                    + "directory, so the layers stay in the format kernel overlayfs and podman use. "
                    + "Without an upper directory the union is read-only.",
            "",
            "Two ways to name the layers (not both at once):",
            "  -o lowerdir=TOP:...:BOTTOM,upperdir=U,workdir=W   as fuse-overlayfs takes them",
            "  --lower TOP ... --lower BOTTOM --upper U --work W",
            "",
            "The command returns once the mount is ready and keeps serving it in the background "
                    + "until 'layerfs umount MERGED' (or SIGTERM to the server). Nothing is mounted or "
                    + "changed if a check fails.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  # image layers and a container layer, as podman passes them",
            "  layerfs mount -o lowerdir=l/top:l/base,upperdir=c/up,workdir=c/work c/merged",
            "",
            "  # the same with long options, served from this process until Ctrl-C",
            "  layerfs mount --lower l/top --lower l/base --upper c/up --work c/work \\",
            "      --foreground c/merged",
            "",
            "  # a read-only view of one layer",
            "  layerfs mount --lower /srv/image /mnt/image",
            "",
            "As podman's mount program, in /etc/containers/storage.conf:",
            "  [storage.options.overlay]",
            "  mount_program = \"/usr/local/bin/layerfs\"",
            "",
            "-o options:",
            "  lowerdir= upperdir= workdir=   name the layers",
            "  ro nodev nosuid noexec noatime FUSE mount options",
            "  entry_timeout=S attr_timeout=S negative_timeout=S",
            "                                 FUSE timeouts in seconds (1 day by default)",
            "  volatile fsync=0               copy up without fsync, as --volatile",
            "  writeback=0                    no kernel write cache (as fuse-overlayfs)",
            "  no_open=0                      ask the daemon at every open and close",
            "                                 (by default the kernel opens files alone)",
            "  open_files=N                   layer files the daemon keeps open (1024)",
            "  noacl noxattrs=1 fast_ino=1 ...",
            "                                 fuse-overlayfs tuning: accepted, no effect",
            "  uidmapping= gidmapping= squash_to_root context= ...",
            "                                 accepted with a warning, not applied",
            "  anything else                  ignored with a warning",
            "",
            "In the background the server logs to WORKDIR/layerfs.log.",
            "",
            "Environment:",
            "  LAYERFS_FUSE_BINDING=devfuse   FUSE spoken over /dev/fuse directly (default)",
            "  LAYERFS_FUSE_BINDING=jnr       libfuse 2 through jnr-fuse (needs libfuse2; 1 s",
            "                                 attribute cache)",
            "  LAYERFS_FUSE_THREADS=N         threads for syncs and copy-ups (default 4)",
            "  LAYERFS_JAVA_OPTS=...          more JVM options, e.g. -Xmx512m",
            "",
        })
final class MountCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "-o", paramLabel = "OPTIONS",
            description = "Comma-separated mount options, as for fuse-overlayfs; may be repeated.")
    List<String> options = new ArrayList<>();

    @Option(names = "--lower", paramLabel = "DIR",
            description = "A read-only layer; repeat it, highest layer first.")
    List<String> lowers = new ArrayList<>();

    @Option(names = "--upper", paramLabel = "DIR",
            description = "The writable layer. Needs --work.")
    String upper;

    @Option(names = "--work", paramLabel = "DIR",
            description = "An empty directory on the upper's filesystem, for building files before they "
                    + "are moved into the upper.")
    String work;

    @Option(names = {"-f", "--foreground"},
            description = "Serve in this process until unmounted, instead of in the background.")
    boolean foreground;

    @Option(names = {"-d", "--debug"},
            description = "Print every FUSE request and reply, and stack traces of errors.")
    boolean debug;

    /** Set by {@link BackgroundLauncher} on the process it starts: mount, say READY, serve. */
    @Option(names = "--volatile",
            description = "Copy up without fsync, as overlayfs' volatile (also -o volatile or -o fsync=0):"
                    + " faster, and after a host crash the upper may hold incomplete copies.")
    boolean isVolatile;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Append one JSON line to FILE for each change to the layers: copy-up (with bytes"
                    + " copied), whiteout created, opaque directory made.")
    String trace;

    @Option(names = "--trace-lookups",
            description = "With --trace, also one line per lookup, naming the layer that answered (costly).")
    boolean traceLookups;

    @Option(names = "--container", paramLabel = "NAME",
            description = "Mount a container of the store (see 'layerfs create') instead of naming layers.")
    String container;

    @picocli.CommandLine.Mixin
    StoreOptions store;

    @Option(names = "--daemon-child", hidden = true)
    boolean daemonChild;

    @Parameters(paramLabel = "MERGED", description = "The directory where the union appears.")
    String mountpoint;

    private final Host host;
    private final Path cwd;

    MountCommand(Host host, Path cwd) {
        this.host = host;
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException, InterruptedException {
        return run(spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The command with its fields set, by picocli or by {@link Main#plainMount}. */
    int run(PrintWriter out, PrintWriter err) throws CliException, InterruptedException {
        MountRequest request = new Preflight(host).check(request(err));
        if (daemonChild || (!foreground && BackgroundLauncher.isDetached())) {
            return MountServer.serve(request, debug, () -> BackgroundLauncher.reportReady(out, request));
        }
        if (foreground) {
            return MountServer.serve(request, debug, () -> { });
        }
        return BackgroundLauncher.launch(request, debug, out, err);
    }

    /**
     * The request the command line asks for, before any check against the filesystem. Warnings
     * about ignored -o options go to warningsTo, except in the background child: its parent has
     * printed them already.
     */
    MountRequest request(PrintWriter warningsTo) throws CliException {
        OverlayOptions o = OverlayOptionsParser.parse(options, cwd);
        try {
            FuseMount.checkOptions(o.fuseOptions());
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        }
        if (!daemonChild) {
            for (String w : o.warnings()) {
                warningsTo.println("layerfs: warning: " + w);
            }
            warningsTo.flush();
        }
        boolean longForm = !lowers.isEmpty() || upper != null || work != null;
        if (longForm && o.namesLayers()) {
            throw new CliException(ExitCode.USAGE,
                    "the layers are named twice: use -o lowerdir=,upperdir=,workdir= or --lower/--upper/--work");
        }
        if (traceLookups && trace == null) {
            throw new CliException(ExitCode.USAGE, "--trace-lookups needs --trace FILE");
        }
        MountRequest.Tuning tuning = new MountRequest.Tuning(isVolatile || o.isVolatile(), path(trace), traceLookups);
        if (container != null) {
            if (longForm || o.namesLayers()) {
                throw new CliException(ExitCode.USAGE, "--container names the layers already: drop -o lowerdir=/--lower");
            }
            try {
                io.layerfs.store.LayerStore.MountPlan plan = store.open(cwd).mountPlan(container);
                return new MountRequest(plan.lowers(), plan.upper(), plan.work(), path(mountpoint), o.fuseOptions(),
                        tuning);
            } catch (java.io.IOException e) {
                throw StoreOptions.failure(e);
            }
        }
        if (!longForm) {
            return new MountRequest(o.lowers(), o.upper(), o.work(), path(mountpoint), o.fuseOptions(), tuning);
        }
        List<Path> lowerPaths = new ArrayList<>();
        for (String l : lowers) {
            lowerPaths.add(path(l));
        }
        return new MountRequest(lowerPaths, path(upper), path(work), path(mountpoint), o.fuseOptions(), tuning);
    }

    private Path path(String arg) throws CliException {
        if (arg == null) {
            return null;
        }
        if (arg.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "an empty string is not a directory");
        }
        try {
            return cwd.resolve(arg);
        } catch (InvalidPathException e) {
            throw new CliException(ExitCode.USAGE, "bad path " + arg + ": " + e.getMessage());
        }
    }
}
