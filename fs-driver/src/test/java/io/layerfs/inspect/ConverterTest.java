package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.inspect.Converter.Form;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.testkit.KernelOverlay;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;
import io.layerfs.testkit.TreeSnapshot;

/**
 * {@link Converter} on {@link EncodingStack}, whose layers use every encoding. The proof is a mount:
 * each layer converted to kernel form, mounted by kernel overlayfs, shows the tree that layerfs shows
 * for the original layers; the same for userxattr form under {@code -o userxattr}; the OCI form is
 * mounted by layerfs, and converted back to kernel form for the kernel.
 */
class ConverterTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    private static List<String> markerLines(Path layer) throws IOException {
        List<String> out = new ArrayList<>();
        for (Marker m : Whiteouts.of(layer)) {
            out.add(m.path() + " " + m.encoding().id() + (m.effective() ? "" : " IGNORED"));
        }
        return out;
    }

    @Test
    void convert_toEachForm_writesOnlyThatFormsMarkers() throws Exception {
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        Path mid = fx.lowers.get(1);

        Converter.convert(mid, tmp.resolve("kernel"), Form.KERNEL);
        assertEquals(List.of("/a/kern char-device", "/a/oci char-device", "/o1 trusted.overlay.opaque",
                "/o2 trusted.overlay.opaque", "/o3 trusted.overlay.opaque", "/o4 trusted.overlay.opaque",
                "/u/user char-device", "/x/trusted char-device"), markerLines(tmp.resolve("kernel")));

        Converter.convert(mid, tmp.resolve("user"), Form.USERXATTR);
        assertEquals(List.of("/a/kern char-device", "/a/oci char-device", "/o1 user.overlay.opaque",
                "/o2 user.overlay.opaque", "/o3 user.overlay.opaque", "/o4 user.overlay.opaque",
                "/u/user char-device", "/x/trusted char-device"), markerLines(tmp.resolve("user")));

        Converter.Result r = Converter.convert(mid, tmp.resolve("oci"), Form.OCI);
        assertEquals(List.of("/a/kern oci-whiteout", "/a/oci oci-whiteout", "/o1 oci-opaque", "/o2 oci-opaque",
                "/o3 oci-opaque", "/o4 oci-opaque", "/u/user oci-whiteout", "/x/trusted oci-whiteout"),
                markerLines(tmp.resolve("oci")));
        assertEquals(4, r.whiteouts());
        assertEquals(4, r.opaque());
        assertEquals(List.of(), SYS.llistxattr(tmp.resolve("oci/x").toString()), "opaque=x is gone with its whiteouts");
    }

    @Test
    void convert_keepsDataOwnersModesTimesXattrsAndHardLinks() throws Exception {
        Path src = LayerFixture.in(tmp).layer("src")
                .file("f", "data", 04755).chown("f", 1000, 1001).xattr("f", "user.note", "kept")
                .mtime("f", 1_500_000_000L, 5).hardlink("g", "f").symlink("ln", "f").fifo("p", 0600)
                .charDevice("null", 1, 3, 0666).dir("d", 0700).mtime("d", 1_400_000_000L, 0)
                .path();
        Converter.convert(src, tmp.resolve("dst"), Form.KERNEL);
        TreeSnapshot.Options all = TreeSnapshot.Options.defaults().withNlink(true).withAllMtimes();
        TreeSnapshot before = TreeSnapshot.of(src, all);
        TreeSnapshot after = TreeSnapshot.of(tmp.resolve("dst"), all);
        List<String> diff = TreeSnapshot.diff("source", before, "converted", after);
        diff.removeIf(d -> d.startsWith(".:"));
        assertEquals(List.of(), diff);
    }

    @Test
    void convert_existingTarget_isRefused_andNothingIsLeftBehind() throws Exception {
        Path src = LayerFixture.in(tmp).layer("src").file("a", "a").path();
        Files.createDirectory(tmp.resolve("dst"));
        assertThrows(FileAlreadyExistsException.class, () -> Converter.convert(src, tmp.resolve("dst"), Form.OCI));

        Path redirected = LayerFixture.in(tmp).layer("r").file("x/y/z", "z")
                .xattr("x/y", "trusted.overlay.redirect", "/old").path();
        IOException e = assertThrows(IOException.class, () -> Converter.convert(redirected, tmp.resolve("r2"), Form.OCI));
        assertTrue(e.getMessage().contains("trusted.overlay.redirect"), e.getMessage());
        try (var names = Files.list(tmp)) {
            assertEquals(List.of("dst", "r", "src"), names.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void convert_dropsMarkersLayerfsIgnores_withAWarning() throws Exception {
        Path src = LayerFixture.in(tmp).layer("src").file("same/f", "f").whiteoutOci("same")
                .file("notdir", "x").xattr("notdir", "trusted.overlay.opaque", "y")
                .file("d/f", "f").xattr("d/f", "trusted.overlay.origin", "junk").path();
        Converter.Result r = Converter.convert(src, tmp.resolve("dst"), Form.KERNEL);
        assertFalse(Files.exists(tmp.resolve("dst/.wh.same")));
        assertEquals(2, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().get(1).startsWith("/notdir: dropped xattr trusted.overlay.opaque=y"), r.warnings().toString());
        assertEquals(List.of("trusted.overlay.origin"), r.droppedXattrs());
        Stat st = SYS.lstat(Sys.AT_FDCWD, tmp.resolve("dst/notdir").toString());
        assertTrue(st.isRegular());
    }

    // ---- mounted: the converted layers show the original's view ------------------------------------

    private List<Path> convertAll(EncodingStack fx, String name, Form form) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < fx.lowers.size(); i++) {
            Path d = tmp.resolve(name + "-lower" + i);
            Converter.convert(fx.lowers.get(i), d, form);
            out.add(d);
        }
        Converter.convert(fx.upper, tmp.resolve(name + "-upper"), form);
        return out;
    }

    private Path dir(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    @Test
    void mounted_kernelAndUserxattrForms_showLayerfsViewOfTheOriginal() throws Exception {
        MountTests.requireFuse();
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        TreeSnapshot original;
        try (AutoCloseable m = new LayerfsMounter().mount(fx.lowers, fx.upper, fx.work, dir("mnt-orig"))) {
            original = TreeSnapshot.of(tmp.resolve("mnt-orig"));
        }
        assertTrue(original.contains("a") && !original.contains("a/kern") && !original.contains("o4/old"),
                original.toString());

        try (KernelOverlay o = KernelOverlay.mount(fx.lowers, fx.upper, dir("plain-work"), dir("mnt-plain"), "")) {
            List<String> unconverted = TreeSnapshot.diff("layerfs", original, "kernel", TreeSnapshot.of(o.mountpoint()));
            assertTrue(unconverted.contains("only in kernel: a/.wh.oci reg mode=0644 owner=0:0 size=0 sha256=e3b0c44298fc"),
                    "without conversion the kernel shows what layerfs hides: " + unconverted);
        }

        List<Path> kernel = convertAll(fx, "kernel", Form.KERNEL);
        try (KernelOverlay o = KernelOverlay.mount(kernel, tmp.resolve("kernel-upper"), dir("kernel-work"),
                dir("mnt-kernel"), "")) {
            assertEquals(List.of(), TreeSnapshot.diff("layerfs on original", original, "kernel on converted",
                    TreeSnapshot.of(o.mountpoint())));
        }

        List<Path> user = convertAll(fx, "user", Form.USERXATTR);
        try (KernelOverlay o = KernelOverlay.mount(user, tmp.resolve("user-upper"), dir("user-work"),
                dir("mnt-user"), "userxattr")) {
            assertEquals(List.of(), TreeSnapshot.diff("layerfs on original", original, "kernel userxattr on converted",
                    TreeSnapshot.of(o.mountpoint())));
        }

        List<Path> oci = convertAll(fx, "oci", Form.OCI);
        try (AutoCloseable m = new LayerfsMounter().mount(oci, tmp.resolve("oci-upper"), dir("oci-work"),
                dir("mnt-oci"))) {
            assertEquals(List.of(), TreeSnapshot.diff("layerfs on original", original, "layerfs on OCI form",
                    TreeSnapshot.of(tmp.resolve("mnt-oci"))));
        }
        List<Path> back = new ArrayList<>();
        for (int i = 0; i < oci.size(); i++) {
            back.add(tmp.resolve("back-lower" + i));
            Converter.convert(oci.get(i), back.get(i), Form.KERNEL);
        }
        Converter.convert(tmp.resolve("oci-upper"), tmp.resolve("back-upper"), Form.KERNEL);
        try (KernelOverlay o = KernelOverlay.mount(back, tmp.resolve("back-upper"), dir("back-work"),
                dir("mnt-back"), "")) {
            assertEquals(List.of(), TreeSnapshot.diff("layerfs on original", original, "kernel on OCI form made kernel",
                    TreeSnapshot.of(o.mountpoint())));
        }
    }
}
