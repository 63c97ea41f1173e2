package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.layerfs.inspect.Rules;

/** Parse-only: the layers of a mount from kernel options and from server command lines. */
class MountedLayersTest {
    private static final Path MERGED = Path.of("/var/lib/containers/storage/overlay/abc/merged");

    @Test
    void overlayOptions_absolutePaths_andUserxattr() throws Exception {
        MountedLayers.Layers l = MountedLayers.fromOverlayOptions(
                "rw,lowerdir=/l/a:/l/b,upperdir=/c/up,workdir=/c/work,redirect_dir=nofollow,userxattr", MERGED,
                p -> false);
        assertEquals(List.of(Path.of("/l/a"), Path.of("/l/b")), l.lowers());
        assertEquals(Path.of("/c/up"), l.upper());
        assertEquals(Path.of("/c/work"), l.work());
        assertEquals(Rules.KERNEL_USERXATTR, l.rules());
        assertEquals(List.of(), l.notes());
    }

    @Test
    void overlayOptions_escapedCommaAndColon_dataOnlyLayers() throws Exception {
        MountedLayers.Layers l = MountedLayers.fromOverlayOptions(
                "rw,lowerdir=/l/a\\054b:/l/c\\134\\072d::/data,lowerdir+=/l/e,datadir+=/d2", MERGED, p -> false);
        assertEquals(List.of(Path.of("/l/a,b"), Path.of("/l/c:d"), Path.of("/l/e")), l.lowers());
        assertNull(l.upper());
        assertEquals(Rules.KERNEL, l.rules());
        assertEquals(2, l.notes().size(), l.notes().toString());
    }

    @Test
    void overlayOptions_relativePaths_areFoundAboveMerged() throws Exception {
        Path storage = Path.of("/var/lib/containers/storage/overlay");
        MountedLayers.Layers l = MountedLayers.fromOverlayOptions(
                "rw,lowerdir=l/X:l/Y,upperdir=abc/diff,workdir=abc/work", MERGED,
                java.util.Set.of(storage.resolve("l/X"), storage.resolve("l/Y"), storage.resolve("abc/diff"))::contains);
        assertEquals(List.of(storage.resolve("l/X"), storage.resolve("l/Y")), l.lowers());
        assertEquals(storage.resolve("abc/diff"), l.upper());
        assertTrue(l.notes().get(0).contains("found under " + storage), l.notes().toString());
    }

    @Test
    void overlayOptions_relativePathsNowhere_isAClearError() {
        CliException e = assertThrows(CliException.class,
                () -> MountedLayers.fromOverlayOptions("rw,lowerdir=l/X", MERGED, p -> false));
        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertTrue(e.hint.contains("--lower"), e.hint);
    }

    @Test
    void fuseOverlayfs_daemonInRoot_cwdIsDeducedFromTheMountpointArgument() {
        MountedLayers.Proc p = new MountedLayers.Proc(42,
                List.of("/usr/bin/fuse-overlayfs", "-o", "lowerdir=l/X:l/Y,upperdir=abc/diff,workdir=abc/work",
                        "abc/merged"), Path.of("/"));
        Optional<MountedLayers.Layers> l = MountedLayers.serverLayers(p, MERGED);
        Path storage = Path.of("/var/lib/containers/storage/overlay");
        assertEquals(List.of(storage.resolve("l/X"), storage.resolve("l/Y")), l.orElseThrow().lowers());
        assertEquals(storage.resolve("abc/diff"), l.get().upper());
        assertEquals(Rules.LAYERFS, l.get().rules());
    }

    @Test
    void layerfs_backgroundChild_isRecognized_othersAreNot() {
        MountedLayers.Proc child = new MountedLayers.Proc(7, List.of("java", "-cp", "x", "io.layerfs.cli.Main",
                "mount", "--daemon-child", "--lower", "/l/a", "--upper", "/c/up", "--work", "/c/w", "--", MERGED.toString()),
                Path.of("/"));
        MountedLayers.Layers l = MountedLayers.serverLayers(child, MERGED).orElseThrow();
        assertEquals(List.of(Path.of("/l/a")), l.lowers());
        assertEquals(Path.of("/c/up"), l.upper());

        MountedLayers.Proc podmanStyle = new MountedLayers.Proc(8, List.of("java", "io.layerfs.cli.Main",
                "-o", "lowerdir=l/a,upperdir=up,workdir=w", "merged"), MERGED.getParent());
        assertEquals(List.of(MERGED.getParent().resolve("l/a")),
                MountedLayers.serverLayers(podmanStyle, MERGED).orElseThrow().lowers());

        MountedLayers.Proc explain = new MountedLayers.Proc(9, List.of("java", "io.layerfs.cli.Main", "explain",
                "/x", "--mount", MERGED.toString()), Path.of("/"));
        assertTrue(MountedLayers.serverLayers(explain, MERGED).isEmpty());
        MountedLayers.Proc other = new MountedLayers.Proc(10, List.of("fuse-overlayfs", "-o", "lowerdir=/a", "/else"),
                Path.of("/"));
        assertTrue(MountedLayers.serverLayers(other, MERGED).isEmpty());
    }

    @Test
    void fromServer_noneFound_saysSo() {
        CliException e = assertThrows(CliException.class,
                () -> MountedLayers.fromServer("fuse.sshfs", MERGED, List.of()));
        assertEquals(ExitCode.BAD_MOUNTPOINT, e.exitCode);
        assertTrue(e.getMessage().startsWith("cannot find the process serving the fuse.sshfs mount at " + MERGED),
                e.getMessage());
    }

    @Test
    void splitLowerdir_honoursEscapes() {
        assertEquals(List.of("a", "b:c", "d"), MountedLayers.splitLowerdir("a:b\\:c:d"));
    }
}
