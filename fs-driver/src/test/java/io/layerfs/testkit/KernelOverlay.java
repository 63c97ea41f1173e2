package io.layerfs.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel overlayfs mount ({@code mount -t overlay}), the reference that layerfs is compared with.
 * Closing unmounts; close is idempotent.
 *
 * <pre>
 *   try (KernelOverlay ovl = KernelOverlay.mount(lowers, upper, work, mnt, KernelOverlay.REFERENCE_OPTIONS)) {
 *       ... use mnt ...
 *   }
 * </pre>
 */
public final class KernelOverlay implements AutoCloseable {
    /**
     * The kernel configuration layerfs is compared with, spelled out so that module defaults of the
     * machine do not matter:
     * <ul>
     *   <li>index=on: a copied-up lower hard link stays one inode for all its names (overlayfs.rst,
     *       "Sharing and copying layers"), as in layerfs; with index=off a write through one name
     *       would not be seen through the others.
     *   <li>redirect_dir=nofollow: renaming a lower or merged directory fails with EXDEV; the
     *       differential test turns that into what mv(1) does (overlayfs.rst, "renaming directories").
     *   <li>metacopy=off: copy-up copies data.
     * </ul>
     */
    public static final String REFERENCE_OPTIONS = "index=on,redirect_dir=nofollow,metacopy=off";

    private final Path mountpoint;
    private final String description;
    private boolean closed;
    /** The empty bottom lower added to a single-lower read-only mount, deleted on close. */
    private Path extraLower;

    private KernelOverlay(Path mountpoint, String description) {
        this.mountpoint = mountpoint;
        this.description = description;
    }

    /** A writable overlay; options (may be empty) are appended to the lowerdir/upperdir/workdir options. */
    public static KernelOverlay mount(List<Path> lowers, Path upper, Path work, Path mnt, String options)
            throws IOException {
        StringBuilder o = new StringBuilder("lowerdir=").append(lowerdirs(lowers));
        o.append(",upperdir=").append(checked(upper)).append(",workdir=").append(checked(work));
        if (options != null && !options.isEmpty()) {
            o.append(',').append(options);
        }
        return mount(o.toString(), mnt);
    }

    /**
     * A read-only overlay of lowers alone (no upper, no work). The kernel wants at least two lowerdirs
     * then; for a single lower an empty directory beside mnt ({@code mnt.empty-lower}) is added at the
     * bottom, which changes nothing that can be seen, and removed again on close.
     */
    public static KernelOverlay mountReadOnly(List<Path> lowers, Path mnt) throws IOException {
        if (lowers.size() != 1) {
            return mount("lowerdir=" + lowerdirs(lowers), mnt);
        }
        Path empty = mnt.resolveSibling(mnt.getFileName() + ".empty-lower");
        Files.createDirectory(empty);
        try {
            KernelOverlay o = mount("lowerdir=" + lowerdirs(List.of(lowers.get(0), empty)), mnt);
            o.extraLower = empty;
            return o;
        } catch (IOException | RuntimeException e) {
            Files.delete(empty);
            throw e;
        }
    }

    /** A {@link UnionMounter} that mounts kernel overlayfs with these extra options. */
    public static UnionMounter mounter(String options) {
        return (lowers, upper, work, mnt) -> mount(lowers, upper, work, mnt, options);
    }

    private static KernelOverlay mount(String options, Path mnt) throws IOException {
        List<String> out = new ArrayList<>();
        List<String> cmd = List.of("mount", "-t", "overlay", "overlay", "-o", options, checked(mnt));
        if (Mounts.run(cmd, out) != 0 || !Mounts.isMounted(mnt)) {
            throw new IOException("mount -t overlay -o " + options + " " + mnt + " failed: " + String.join("; ", out)
                    + " (dmesg may say why)");
        }
        return new KernelOverlay(mnt.toAbsolutePath().normalize(), options);
    }

    /** overlayfs separates lowers with ':' and options with ','; such paths would need escaping we never want. */
    private static String checked(Path p) {
        String s = p.toAbsolutePath().normalize().toString();
        if (s.contains(":") || s.contains(",") || s.contains("\\")) {
            throw new IllegalArgumentException("path not usable in overlay options: " + s);
        }
        return s;
    }

    private static String lowerdirs(List<Path> lowers) {
        if (lowers.isEmpty()) {
            throw new IllegalArgumentException("kernel overlayfs needs at least one lowerdir");
        }
        List<String> parts = new ArrayList<>();
        for (Path p : lowers) {
            parts.add(checked(p));
        }
        return String.join(":", parts);
    }

    public Path mountpoint() {
        return mountpoint;
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            Mounts.unmount(mountpoint);
            closed = true;
            if (extraLower != null) {
                Files.delete(extraLower);
            }
        }
    }

    @Override
    public String toString() {
        return "overlay at " + mountpoint + " (" + description + ")";
    }
}
