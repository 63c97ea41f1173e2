package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;

/**
 * diff, commit, export, history, image rm, gc and df over one container. Root only (0/0 whiteouts and
 * trusted.* xattrs in the upper), gated.
 *
 * <pre>
 * image "base" (LayerStoreTest): /bin/sh  /etc/motd        (etc/hostname whited out by its top layer)
 * upper of c1:  bin/ (opaque) bin/ls      etc/motd (0/0)   new/file
 * </pre>
 */
class CommitExportTest {
    @TempDir
    Path tmp;
    LayerStore store;
    Digest base;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Sys.get().geteuid() == 0, "needs root: whiteout devices and trusted.* xattrs");
        store = LayerStore.open(tmp.resolve("root"));
        byte[] baseTar = new Tars().dir("etc").file("etc/hostname", "base").dir("bin").file("bin/sh", "sh").bytes();
        byte[] topTar = new Tars().dir("etc").file("etc/.wh.hostname", "").file("etc/motd", "hi").bytes();
        LayerStoreTest.writeOci(tmp.resolve("oci"), baseTar, topTar, "base");
        base = store.importImage(tmp.resolve("oci"), null, LayerStore.DEFAULT_MAX_LAYER_BYTES).id();
        store.create("base", "c1");
        Path upper = store.layout().containerUpper("c1");
        Sys sys = Sys.get();
        Files.createDirectories(upper.resolve("bin"));
        sys.lsetxattr(upper.resolve("bin").toString(), "trusted.overlay.opaque", new byte[] {'y'}, 0);
        Files.writeString(upper.resolve("bin/ls"), "ls");
        Files.createDirectories(upper.resolve("etc"));
        sys.mknodat(Sys.AT_FDCWD, upper.resolve("etc/motd").toString(), Stat.S_IFCHR, 0);
        Files.createDirectories(upper.resolve("new"));
        Files.writeString(upper.resolve("new/file"), "n");
    }

    private static String render(List<Changes.Change> changes) {
        StringBuilder sb = new StringBuilder();
        for (Changes.Change c : changes) {
            sb.append(c.kind()).append(' ').append(c.path()).append('\n');
        }
        return sb.toString();
    }

    @Test
    void diff_upperWithWhiteoutOpaqueAndNew_dockerDiffLines() throws Exception {
        assertEquals("C /bin\nA /bin/ls\nD /bin/sh\nC /etc\nD /etc/motd\nA /new\nA /new/file\n",
                render(store.diff("c1")));
    }

    @Test
    void commit_sameUpperTwice_sameLayerBytes_andOciMarkers() throws Exception {
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        LayerTarWriter.write(store.layout().containerUpper("c1"), a);
        LayerTarWriter.write(store.layout().containerUpper("c1"), b);
        assertArrayEquals(a.toByteArray(), b.toByteArray());
        String text = new String(a.toByteArray(), StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("bin/.wh..wh..opq"), "opaque marker");
        assertTrue(text.contains("etc/.wh.motd"), "whiteout");
        assertFalse(text.contains("trusted.overlay"), "no overlay xattrs in the layer");

        LayerStore.ImportResult one = store.commit("c1", "snap:1", null);
        LayerStore.ImportResult two = store.commit("c1", "snap:2", null);
        assertEquals(one.layers(), two.layers(), "same upper, same layer");
        assertEquals(1, one.newLayers());
        assertEquals(0, two.newLayers());

        store.create("snap:1", "c2");
        assertEquals("", render(store.diff("c2")));
        assertEquals("layerfs commit c1", store.history("snap:1").get(0).createdBy());
        assertEquals(3, store.history("snap:1").size());
    }

    @Test
    void export_ociDirAndDockerTar_reimport_sameImageId() throws Exception {
        Digest committed = store.commit("c1", "snap", "a comment").id();
        store.export("snap", tmp.resolve("out-oci"), ImageExporter.formatFor(tmp.resolve("out-oci"), null));
        store.export("snap", tmp.resolve("out.tar"), ImageExporter.formatFor(tmp.resolve("out.tar"), null));
        store.export("snap", tmp.resolve("out-oci.tar"), ImageExporter.formatFor(tmp.resolve("out-oci.tar"), "oci"));
        for (String out : List.of("out-oci", "out.tar", "out-oci.tar")) {
            LayerStore fresh = LayerStore.open(tmp.resolve("fresh-" + out));
            LayerStore.ImportResult r = fresh.importImage(tmp.resolve(out), null, LayerStore.DEFAULT_MAX_LAYER_BYTES);
            assertEquals(committed, r.id(), out);
            assertEquals(3, r.newLayers(), out);
        }
        assertThrows(StoreException.class, () -> store.export("snap", tmp.resolve("out-oci"), ImageExporter.Format.OCI_DIR));
    }

    @Test
    void rmAndGc_reachabilityFromImagesAndContainers() throws Exception {
        Digest committed = store.commit("c1", "snap", null).id();
        store.create("snap", "c2");
        LayerStore.Usage usage = store.df();
        LayerStore.ImageUsage baseUsage = usage.images().stream().filter(i -> i.id().equals(base)).findFirst().get();
        assertEquals(baseUsage.size(), baseUsage.shared(), "both base layers are shared with snap");
        assertEquals(3, usage.layers().size());

        StoreException used = assertThrows(StoreException.class, () -> store.removeImage("snap"));
        assertTrue(used.getMessage().contains("c2"), used.getMessage());
        assertEquals(0, store.gc().removedLayers().size());
        store.remove("c2");
        assertEquals("deleted " + committed, store.removeImage("snap"));
        LayerStore.GcResult gc = store.gc();
        assertEquals(1, gc.removedLayers().size());
        assertTrue(gc.bytes() > 0);
        assertEquals(2, store.layers().size());
        store.remove("c1");
        store.removeImage("base");
        assertEquals(2, store.gc().removedLayers().size());
        assertEquals(0, store.layers().size());
    }
}
