package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Everything that can be checked before mounting, so that a bad request fails with one clear line
 * and nothing mounted or changed. Only reads: file attributes, the mount table, /dev/fuse and the
 * library cache (through {@link Host}). The checks run in the order a user would fix them:
 * arguments, layers, mount point, then the FUSE setup of the machine.
 */
final class Preflight {
    private static final String SEPARATE_TREES =
            "overlayfs layers must be separate directory trees: none inside another";

    private final Host host;

    Preflight(Host host) {
        this.host = host;
    }

    /** Returns the request with every path resolved to its real, symlink-free location. */
    MountRequest check(MountRequest request) throws CliException {
        if (request.lowers().isEmpty() && request.upper() == null) {
            throw new CliException(ExitCode.USAGE, "nothing to mount: no lower directory given",
                    "name at least one with -o lowerdir=DIR or --lower DIR");
        }
        if (request.upper() != null && request.work() == null) {
            throw new CliException(ExitCode.USAGE, "an upper directory needs a workdir",
                    "add -o workdir=DIR (or --work DIR): an empty directory on the upper's filesystem");
        }
        if (request.work() != null && request.upper() == null) {
            throw new CliException(ExitCode.USAGE, "a workdir was given without an upper directory");
        }
        List<Path> lowers = new ArrayList<>();
        for (Path lower : request.lowers()) {
            lowers.add(realDirectory("lowerdir", lower));
        }
        Path upper = request.upper() == null ? null : realDirectory("upperdir", request.upper());
        Path work = request.work() == null ? null : realDirectory("workdir", request.work());
        if (upper != null) {
            checkSeparate(lowers, upper, work);
            checkSameFileSystem(upper, work);
        }
        Path mountpoint = freeMountpoint(request.mountpoint());
        if (!host.hasFuseDevice()) {
            throw new CliException(ExitCode.NO_FUSE, "/dev/fuse is missing",
                    "load the module with 'modprobe fuse'; in a container, pass the device (--device /dev/fuse)");
        }
        if (host.usesLibfuse2() && !host.hasLibfuse2()) {
            throw new CliException(ExitCode.NO_FUSE,
                    "libfuse2 is not installed (libfuse.so.2 not found; LAYERFS_FUSE_BINDING=jnr needs it)",
                    "install it: apt-get install libfuse2; or unset LAYERFS_FUSE_BINDING for the /dev/fuse binding");
        }
        return new MountRequest(lowers, upper, work, mountpoint, request.fuseOptions(), request.tuning());
    }

    private static Path realDirectory(String role, Path path) throws CliException {
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_LAYER, role + " " + path + " does not exist");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, role + " " + path + " cannot be used: " + reason(e));
        }
        if (!Files.isDirectory(real)) {
            throw new CliException(ExitCode.BAD_LAYER, role + " " + path + " is not a directory");
        }
        return real;
    }

    /**
     * The upper and the workdir may not overlap each other or any lower: a copy-up would then
     * change a layer that is being read (overlayfs.rst, "Sharing and copying layers").
     * Lowers may overlap each other; they are only read.
     */
    private static void checkSeparate(List<Path> lowers, Path upper, Path work) throws CliException {
        checkApart("upperdir", upper, "workdir", work);
        for (Path lower : lowers) {
            checkApart("upperdir", upper, "lowerdir", lower);
            checkApart("workdir", work, "lowerdir", lower);
        }
    }

    private static void checkApart(String aRole, Path a, String bRole, Path b) throws CliException {
        if (a.equals(b)) {
            throw new CliException(ExitCode.BAD_LAYER, aRole + " and " + bRole + " are the same directory " + a,
                    SEPARATE_TREES);
        }
        if (a.startsWith(b)) {
            throw new CliException(ExitCode.BAD_LAYER, aRole + " " + a + " is inside " + bRole + " " + b,
                    SEPARATE_TREES);
        }
        if (b.startsWith(a)) {
            throw new CliException(ExitCode.BAD_LAYER, bRole + " " + b + " is inside " + aRole + " " + a,
                    SEPARATE_TREES);
        }
    }

    /** New files are built in the workdir and renamed into the upper: rename(2) cannot cross filesystems. */
    private void checkSameFileSystem(Path upper, Path work) throws CliException {
        try {
            if (!host.fileSystemOf(upper).equals(host.fileSystemOf(work))) {
                throw new CliException(ExitCode.BAD_LAYER,
                        "workdir " + work + " is on another filesystem than upperdir " + upper,
                        "files are built in the workdir and renamed into the upper: put both on one filesystem");
            }
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot compare the filesystems of upperdir and workdir: "
                    + reason(e));
        }
    }

    private Path freeMountpoint(Path path) throws CliException {
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + path + " does not exist",
                    "create it first: mkdir -p " + path);
        } catch (IOException e) {
            // ENOTCONN here is the classic sign of a FUSE server that died without unmounting.
            Optional<Path> stale = staleFuseMount(path);
            if (stale.isPresent()) {
                throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + stale.get()
                        + " holds a dead FUSE mount (its server is gone: " + reason(e) + ")",
                        "clear it first: layerfs umount --force " + stale.get());
            }
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + path + " cannot be used: " + reason(e),
                    "if an earlier mount died there, unmount it: layerfs umount --force " + path);
        }
        // Before looking at the directory itself: the root of a dead FUSE mount cannot be stat'ed.
        Optional<MountTable.Mount> mounted;
        try {
            mounted = host.mountAt(real);
        } catch (IOException e) {
            throw new CliException(ExitCode.FAILURE, "cannot read the mount table: " + reason(e));
        }
        if (mounted.isPresent() && mounted.get().fsType().startsWith("fuse") && isDead(real)) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + real
                    + " holds a dead FUSE mount (its server is gone: ENOTCONN)",
                    "clear it first: layerfs umount --force " + real);
        }
        if (mounted.isPresent()) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT,
                    "mountpoint " + real + " is busy: a " + mounted.get().fsType() + " filesystem is mounted there",
                    "unmount it first: layerfs umount " + real);
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(real, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + path + " cannot be used: " + reason(e));
        }
        if (!attributes.isDirectory()) {
            throw new CliException(ExitCode.BAD_MOUNTPOINT, "mountpoint " + path + " is not a directory");
        }
        return real;
    }

    /**
     * Whether the FUSE mount at mountpoint has lost its server: opening its root needs an answer
     * from the server (a stat may still be served from the kernel's attribute cache).
     */
    private static boolean isDead(Path mountpoint) {
        Sys sys = Sys.get();
        try {
            sys.close(sys.openat(Sys.AT_FDCWD, mountpoint.toString(),
                    Sys.O_RDONLY | Sys.O_DIRECTORY, 0));
            return false;
        } catch (SysException e) {
            return e.errno() == Errno.ENOTCONN;
        }
    }

    /**
     * The mount point, if path names a FUSE mount whose root cannot be reached: resolved through its
     * parent, since the root itself fails to stat.
     */
    private Optional<Path> staleFuseMount(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            return Optional.empty();
        }
        try {
            Path real = parent.toRealPath().resolve(abs.getFileName());
            return host.mountAt(real).filter(m -> m.fsType().startsWith("fuse")).map(m -> real);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The system's reason without the path that the message repeats anyway. */
    static String reason(IOException e) {
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return String.valueOf(e.getMessage());
    }
}
