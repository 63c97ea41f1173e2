package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.Differential;
import io.layerfs.testkit.FuseOverlayfs;
import io.layerfs.testkit.KernelOverlay;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;
import io.layerfs.testkit.Op;
import io.layerfs.testkit.Ops;
import io.layerfs.testkit.TreeSnapshot;
import io.layerfs.testkit.UnionMounter;

/**
 * The on-disk format both ways: an upper written through one implementation, mounted with the
 * other, shows the same tree (names, types, modes, owners, sizes, contents, link targets, xattrs,
 * mtimes). Random lowers and operations from the differential test's generators.
 * System property {@code layerfs.interop.seeds} (default 40).
 */
class InteropTest {
    /**
     * The kernel as it mounts by default. With index=on the kernel also keeps, in WORKDIR/index, the
     * copy-ups of hard-linked lower files that later names must show; layerfs, like fuse-overlayfs,
     * does not read that index (see README, "Known limits").
     */
    private static final String KERNEL_OPTIONS = "index=off,redirect_dir=off,metacopy=off";

    /** 2020-01-01: earlier mtimes were set by the fixture or by a utimes operation. */
    private static final long OLDEST_CLOCK_TIME = 1_577_836_800L;

    @TempDir
    Path tmp;

    @Test
    void upperWrittenByLayerfs_kernelOverlayShowsTheSameTree() throws Exception {
        MountTests.requireFuse();
        for (long seed = 1; seed <= seeds(); seed++) {
            roundTrip(seed, new LayerfsMounter(), "layerfs", KernelOverlay.mounter(KERNEL_OPTIONS), "kernel");
        }
    }

    @Test
    void upperWrittenByKernelOverlay_layerfsShowsTheSameTree() throws Exception {
        MountTests.requireFuse();
        for (long seed = 1; seed <= seeds(); seed++) {
            roundTrip(seed, KernelOverlay.mounter(KERNEL_OPTIONS), "kernel", new LayerfsMounter(),
                    "layerfs");
        }
    }

    @Test
    void upperWrittenByLayerfs_fuseOverlayfsShowsTheSameTree() throws Exception {
        MountTests.requireFuse();
        int compared = 0;
        for (long seed = 1; seed <= seeds(); seed++) {
            if (roundTrip(seed, new LayerfsMounter(), "layerfs", FuseOverlayfs.mounter(), "fuse-overlayfs")) {
                compared++;
            }
        }
        assertTrue(compared >= seeds() * 3 / 4, "fuse-overlayfs could read the lowers of only " + compared + " seeds");
    }

    @Test
    void upperWrittenByFuseOverlayfs_layerfsShowsTheSameTree() throws Exception {
        MountTests.requireFuse();
        int compared = 0;
        for (long seed = 1; seed <= seeds(); seed++) {
            if (roundTrip(seed, FuseOverlayfs.mounter(), "fuse-overlayfs", new LayerfsMounter(), "layerfs")) {
                compared++;
            }
        }
        assertTrue(compared >= seeds() * 3 / 4, "fuse-overlayfs could read the lowers of only " + compared + " seeds");
    }

    private static long seeds() {
        return Long.getLong("layerfs.interop.seeds", 40);
    }

    /**
     * Writes through writer, reads through reader, compares. Returns false, comparing nothing, when
     * fuse-overlayfs is one side and cannot list the untouched lowers themselves: it fails with
     * ENOMEM where a directory covers a file that covers a looping symlink of the same name, which
     * kernel overlayfs and layerfs show as the directory.
     */
    private boolean roundTrip(long seed, UnionMounter writer, String writerName, UnionMounter reader,
                              String readerName) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(writerName + "-" + seed));
        int[] shape = Differential.shape(seed);
        List<Path> lowers = LayerFixture.in(dir.resolve("lowers")).randomLowers(seed, shape[0]);
        boolean fuseOverlayfs = writerName.equals("fuse-overlayfs") || readerName.equals("fuse-overlayfs");
        if (fuseOverlayfs && !fuseOverlayfsReads(lowers, dir.resolve("probe"))) {
            System.out.println("interop seed " + seed + ": fuse-overlayfs cannot list these lowers; not compared");
            return false;
        }
        // fuse-overlayfs caches attributes for ever, so it reports the times a directory had when it
        // first looked: times set by the operations (old ones) are compared, clock times are not
        TreeSnapshot.Options options = fuseOverlayfs
                ? TreeSnapshot.Options.defaults().mtimesBefore(OLDEST_CLOCK_TIME)
                : TreeSnapshot.Options.defaults().withAllMtimes();
        // the origin layerfs and fuse-overlayfs record at copy-up is private to them; the kernel
        // shows it as an ordinary user xattr
        if (writerName.equals("kernel") || readerName.equals("kernel")) {
            options = options.withXattrs(name -> !name.startsWith("user.fuseoverlayfs."));
        }
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        List<Op> ops = Ops.generate(seed, shape[1], Ops.Names.fromLayers(lowers));
        int applied = 0;
        TreeSnapshot written;
        try (AutoCloseable m = writer.mount(lowers, upper, work, mnt)) {
            for (Op op : ops) {
                if (Ops.apply(mnt, op) == 0) {
                    applied++;
                }
            }
            written = snapshot(mnt, options);
        }
        if (writerName.equals("fuse-overlayfs")) {
            // fuse-overlayfs keeps hard-linked lower files in step in memory only: what it wrote is
            // what it shows when it mounts the upper again
            try (AutoCloseable m = writer.mount(lowers, upper, work, mnt)) {
                written = snapshot(mnt, options);
            }
        }
        TreeSnapshot read;
        try (AutoCloseable m = reader.mount(lowers, upper, work, mnt)) {
            try {
                read = snapshot(mnt, options);
            } catch (java.io.IOException e) {
                throw new AssertionError(readerName + " cannot read the upper " + writerName + " wrote (seed " + seed
                        + "): " + e.getMessage() + "\nops:\n" + Ops.describe(ops), e);
            }
        }
        assertTrue(applied > 0, "seed " + seed + ": no operation succeeded");
        List<String> diff = TreeSnapshot.diff(writerName + " (wrote)", written, readerName + " (read)", read);
        if (writerName.equals("fuse-overlayfs")) {
            // fuse-overlayfs shows a copied-up multiply-linked lower file under its other names only
            // if the copy's own name was looked up first since it mounted: its view of those names,
            // and of the copies, depends on the order of lookups, so they are not compared
            diff = diff.stream().filter(line -> {
                String rel = line.substring(0, line.indexOf(':'));
                return !hardLinkedInALower(lowers, rel) && !copyOfHardLinkedLower(upper, lowers, rel);
            }).toList();
        }
        assertEquals(List.of(), diff, "seed " + seed + ", ops:\n" + Ops.describe(ops));
        return true;
    }

    private static boolean hardLinkedInALower(List<Path> lowers, String rel) {
        for (Path l : lowers) {
            try {
                io.layerfs.sys.Stat st = io.layerfs.sys.Sys.get().lstatOrNull(io.layerfs.sys.Sys.AT_FDCWD,
                        l.resolve(rel).toString());
                if (st != null && !st.isDirectory() && st.nlink > 1) {
                    return true;
                }
            } catch (io.layerfs.sys.SysException e) {
                return false;
            }
        }
        return false;
    }

    private static boolean copyOfHardLinkedLower(Path upper, List<Path> lowers, String rel) {
        try {
            byte[] origin = io.layerfs.sys.Sys.get().lgetxattr(upper.resolve(rel).toString(), "user.fuseoverlayfs.origin");
            if (origin == null) {
                return false;
            }
            String o = new String(origin, java.nio.charset.StandardCharsets.UTF_8).replace("\0", "");
            return !o.isEmpty() && hardLinkedInALower(lowers, o);
        } catch (io.layerfs.sys.SysException e) {
            return false;
        }
    }

    private static boolean fuseOverlayfsReads(List<Path> lowers, Path probe) throws Exception {
        Path upper = Files.createDirectories(probe.resolve("upper"));
        Path work = Files.createDirectories(probe.resolve("work"));
        Path mnt = Files.createDirectories(probe.resolve("mnt"));
        try (AutoCloseable m = FuseOverlayfs.mounter().mount(lowers, upper, work, mnt)) {
            TreeSnapshot.of(mnt);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static TreeSnapshot snapshot(Path mnt, TreeSnapshot.Options options) throws Exception {
        // fresh kernel inodes, so no attribute cached by libfuse 2's per-name inodes is compared
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
        return TreeSnapshot.of(mnt, options);
    }
}
