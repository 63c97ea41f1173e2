package io.layerfs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import io.layerfs.fuse.FuseMount;

/** The real machine: procfs, /dev and the dynamic linker's cache. */
final class LinuxHost implements Host {
    static final LinuxHost INSTANCE = new LinuxHost();

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final Path FUSE_DEVICE = Path.of("/dev/fuse");
    /** Where Debian and other distributions put libfuse2; ldconfig is asked only if none has it. */
    private static final List<String> LIBFUSE2_PATHS = List.of(
            "/usr/lib/x86_64-linux-gnu/libfuse.so.2", "/lib/x86_64-linux-gnu/libfuse.so.2",
            "/usr/lib/aarch64-linux-gnu/libfuse.so.2", "/lib/aarch64-linux-gnu/libfuse.so.2",
            "/usr/lib64/libfuse.so.2", "/lib64/libfuse.so.2", "/usr/lib/libfuse.so.2");

    private LinuxHost() {
    }

    @Override
    public MountTable mountTable() throws IOException {
        return MountTable.parse(Files.readString(MOUNTINFO, StandardCharsets.UTF_8));
    }

    /** Without parsing the whole table: every mount checks its mount point on the way to READY. */
    @Override
    public Optional<MountTable.Mount> mountAt(Path mountPoint) throws IOException {
        return MountTable.at(Files.readString(MOUNTINFO, StandardCharsets.UTF_8), mountPoint);
    }

    @Override
    public boolean hasFuseDevice() {
        try {
            // A character device is "other" to java.nio: neither file, directory nor link.
            return Files.readAttributes(FUSE_DEVICE, BasicFileAttributes.class).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean usesLibfuse2() {
        try {
            return FuseMount.Binding.fromEnvironment() == FuseMount.Binding.JNR_FUSE;
        } catch (IllegalArgumentException e) {
            return false; // the mount itself reports the bad value
        }
    }

    @Override
    public boolean hasLibfuse2() {
        for (String p : LIBFUSE2_PATHS) {
            if (Files.exists(Path.of(p))) {
                return true;
            }
        }
        return ldconfigLists("libfuse.so.2 ");
    }

    @Override
    public Object fileSystemOf(Path p) throws IOException {
        return Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
    }

    private static boolean ldconfigLists(String soname) {
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig")) {
            try {
                Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                String out;
                try (InputStream in = p.getInputStream()) {
                    out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                if (p.waitFor(10, TimeUnit.SECONDS)) {
                    return out.contains(soname);
                }
                p.destroy();
            } catch (IOException notThere) {
                // try the next location
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
