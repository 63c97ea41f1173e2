package io.layerfs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's FUSE control filesystem (fusectl, Documentation/filesystems/fuse.rst, "Control
 * filesystem"): one directory per connection under /sys/fs/fuse/connections, named by the
 * device number of the mount. Writing anything to its {@code abort} file ends every pending and
 * future request with ENOTCONN, which unblocks callers stuck on a server that hangs or is stopped.
 */
final class FuseConnections {
    static final Path ROOT = Path.of("/sys/fs/fuse/connections");

    private FuseConnections() {
    }

    /**
     * The connection's directory name for a mountinfo "major:minor": the kernel's dev_t in decimal,
     * which for the anonymous devices FUSE mounts use (major 0) is the minor.
     */
    static String connectionName(String device) {
        String[] mm = device.split(":");
        if (mm.length != 2) {
            throw new IllegalArgumentException("not a major:minor device number: " + device);
        }
        long major = Long.parseLong(mm[0]);
        long minor = Long.parseLong(mm[1]);
        return Long.toString((major << 20) | minor);
    }

    /**
     * Aborts the connection of the mount with this device; mounts fusectl first if nobody has.
     * Empty on success, else why it could not.
     */
    static Optional<String> abort(Host host, String device) throws InterruptedException {
        String name;
        try {
            name = connectionName(device);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        Path abort = ROOT.resolve(name).resolve("abort");
        if (!Files.exists(abort)) {
            try {
                boolean mounted = host.mountTable().mounts().stream().anyMatch(m -> m.fsType().equals("fusectl"));
                if (!mounted) {
                    Optional<String> error = UmountCommand.run(List.of("mount", "-t", "fusectl", "fusectl", ROOT.toString()));
                    if (error.isPresent()) {
                        return Optional.of("cannot mount fusectl on " + ROOT + ": " + error.get());
                    }
                }
            } catch (IOException e) {
                return Optional.of("cannot read the mount table: " + Preflight.reason(e));
            }
        }
        if (!Files.exists(abort)) {
            return Optional.of("no FUSE connection " + name + " in " + ROOT);
        }
        try {
            Files.write(abort, "1".getBytes(StandardCharsets.US_ASCII));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot write " + abort + ": " + Preflight.reason(e));
        }
    }
}
