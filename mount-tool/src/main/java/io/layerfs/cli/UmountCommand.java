package io.layerfs.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerfs umount}: unmounts with fusermount(1), falling back to umount(8), then waits for
 * the background server of that mount to finish, so that its files (the workdir lock, the log)
 * are released when the command returns.
 */
@Command(name = "umount", aliases = "unmount", mixinStandardHelpOptions = true, versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Unmounts the layerfs (or other FUSE) file system at MERGED and waits for its server to exit.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs umount /c/merged",
            "  layerfs umount --lazy /c/merged     # detach now, even while files are open",
            "  layerfs umount --force /c/merged    # the server hangs, is stopped or died",
            "",
        })
final class UmountCommand implements Callable<Integer> {
    private static final long SERVER_EXIT_SECONDS = 30;
    private static final long TOOL_SECONDS = 60;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-l", "--lazy"},
            description = "Detach now and clean up once the file system is no longer busy (umount -l).")
    boolean lazy;

    @Option(names = "--force",
            description = "For a server that hangs, is stopped or died (ENOTCONN): abort its FUSE connection"
                    + " (/sys/fs/fuse/connections/N/abort), so every waiting caller gets ENOTCONN, then"
                    + " detach the mount (umount -l). Does not wait for the server.")
    boolean force;

    @Parameters(paramLabel = "MERGED", description = "Where the file system is mounted.")
    String mountpoint;

    private final Host host;
    private final Path cwd;

    UmountCommand(Host host, Path cwd) {
        this.host = host;
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException, InterruptedException {
        Path target = locate();
        MountTable.Mount mount;
        try {
            mount = host.mountTable().find(target).orElseThrow(
                    () -> new CliException(ExitCode.NOT_MOUNTED, target + " is not mounted"));
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot read the mount table: " + Preflight.reason(e));
        }
        if (!mount.fsType().startsWith("fuse")) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT,
                    target + " is not a FUSE mount (type " + mount.fsType() + ")",
                    "layerfs unmounts only FUSE mounts; use umount(8) for others");
        }
        Optional<ProcessHandle> server = BackgroundLauncher.findServer(target);
        if (force) {
            forceUnmount(target, mount, server, spec.commandLine().getErr());
            return ExitCode.OK.code;
        }
        unmount(target);
        if (server.isPresent() && !lazy) {
            awaitExit(server.get(), spec.commandLine().getErr());
        }
        return ExitCode.OK.code;
    }

    /**
     * The mount point as the kernel lists it. A dead FUSE server makes its mount point fail to stat
     * (ENOTCONN), and that is exactly when umount is needed: then only the parent is resolved.
     */
    private Path locate() throws CliException {
        Path path;
        try {
            path = cwd.resolve(mountpoint);
        } catch (InvalidPathException e) {
            throw new CliException(ExitCode.USAGE, "bad path " + mountpoint + ": " + e.getMessage());
        }
        try {
            return path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, path + " does not exist");
        } catch (IOException e) {
            Path parent = path.normalize().getParent();
            try {
                return parent == null ? path.normalize() : parent.toRealPath().resolve(path.normalize().getFileName());
            } catch (IOException again) {
                return path.normalize();
            }
        }
    }

    private void unmount(Path target) throws CliException, InterruptedException {
        String t = target.toString();
        List<List<String>> attempts = lazy
                ? List.of(List.of("fusermount", "-u", "-z", t), List.of("umount", "-l", t))
                : List.of(List.of("fusermount", "-u", t), List.of("umount", t));
        String failure = "no fusermount or umount program found";
        for (List<String> attempt : attempts) {
            Optional<String> error = run(attempt);
            if (error.isEmpty()) {
                return;
            }
            failure = error.get();
        }
        throw new CliException(ExitCode.FAILURE, "cannot unmount " + target + ": " + failure,
                lazy ? null : "if it is busy, stop what uses it (fuser -vm " + t + ") or: layerfs umount --lazy " + t);
    }

    /**
     * Aborts the connection first: a stopped or hung server would otherwise keep every caller (and
     * umount itself, which syncs) waiting. Then detaches the mount, which no longer answers anything.
     */
    private void forceUnmount(Path target, MountTable.Mount mount, Optional<ProcessHandle> server, PrintWriter err)
            throws CliException, InterruptedException {
        Optional<String> aborted = FuseConnections.abort(host, mount.device());
        if (aborted.isPresent()) {
            err.println("layerfs: warning: " + aborted.get() + "; detaching the mount anyway");
        }
        String t = target.toString();
        Optional<String> error = run(List.of("umount", "-l", t));
        if (error.isPresent()) {
            Optional<String> again = run(List.of("fusermount", "-u", "-z", t));
            if (again.isPresent()) {
                throw new CliException(ExitCode.FAILURE, "cannot unmount " + target + ": " + error.get());
            }
        }
        if (server.isPresent() && server.get().isAlive()) {
            err.println("layerfs: note: its server (pid " + server.get().pid() + ") was cut off; it exits once it"
                    + " runs again (if it is stopped: kill -9 " + server.get().pid() + ")");
        }
        err.flush();
    }

    /** Runs a tool; empty on success, else its first line of complaint. */
    static Optional<String> run(List<String> command) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException notInstalled) {
            return Optional.of(command.get(0) + " is not installed");
        }
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            output = "";
        }
        if (!p.waitFor(TOOL_SECONDS, TimeUnit.SECONDS)) {
            p.destroy();
            return Optional.of(command.get(0) + " did not finish in " + TOOL_SECONDS + " s");
        }
        if (p.exitValue() == 0) {
            return Optional.empty();
        }
        return Optional.of(output.lines().findFirst()
                .orElse(command.get(0) + " failed with status " + p.exitValue()));
    }

    private static void awaitExit(ProcessHandle server, PrintWriter err) throws InterruptedException {
        try {
            server.onExit().get(SERVER_EXIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            err.println("layerfs: warning: unmounted, but its server (pid " + server.pid()
                    + ") is still running after " + SERVER_EXIT_SECONDS + " s");
            err.flush();
        } catch (ExecutionException e) {
            // onExit() does not fail; nothing to wait for.
        }
    }
}
