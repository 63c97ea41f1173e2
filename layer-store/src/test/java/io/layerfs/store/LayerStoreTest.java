package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images are written in the tests: two layers, base (gzip) and top (uncompressed, whiting out base's
 * file), as an OCI layout, an OCI archive and a docker save tarball.
 * <pre>
 * base:  etc/hostname "base"   bin/sh "sh"
 * top:   etc/.wh.hostname      etc/motd "hi"
 * </pre>
 */
class LayerStoreTest {
    @TempDir
    Path tmp;
    Path root;
    LayerStore store;
    byte[] baseTar;
    byte[] topTar;

    @BeforeEach
    void setUp() throws IOException {
        root = tmp.resolve("root");
        store = LayerStore.open(root);
        baseTar = new Tars().dir("etc").file("etc/hostname", "base").dir("bin").file("bin/sh", "sh").bytes();
        topTar = new Tars().dir("etc").file("etc/.wh.hostname", "").file("etc/motd", "hi").bytes();
    }

    /** An OCI layout in dir; returns the config digest. blobs: base gzipped, top plain. */
    static Digest writeOci(Path dir, byte[] base, byte[] top, String ref) throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        byte[] baseGz = Tars.gzip(base);
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + Digest.sha256(base) + "\",\"" + Digest.sha256(top) + "\"]}}";
        Digest configD = blob(blobs, config.getBytes(StandardCharsets.UTF_8));
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":" + desc("application/vnd.oci.image.config.v1+json", configD, config.length()) + ","
                + "\"layers\":[" + desc("application/vnd.oci.image.layer.v1.tar+gzip", blob(blobs, baseGz), baseGz.length)
                + "," + desc("application/vnd.oci.image.layer.v1.tar", blob(blobs, top), top.length) + "]}";
        Digest manifestD = blob(blobs, manifest.getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestD + "\",\"size\":"
                + manifest.length() + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + ref + "\"}}]}");
        return configD;
    }

    private static String desc(String type, Digest d, long size) {
        return "{\"mediaType\":\"" + type + "\",\"digest\":\"" + d + "\",\"size\":" + size + "}";
    }

    private static Digest blob(Path blobs, byte[] data) throws IOException {
        Digest d = Digest.sha256(data);
        Files.write(blobs.resolve(d.hex()), data);
        return d;
    }

    /** A tar of every file under dir (for an OCI archive or docker save tarball). */
    static void tarDir(Path dir, Path out) throws IOException {
        try (OutputStream o = Files.newOutputStream(out);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(o);
             Stream<Path> files = Files.walk(dir)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                if (Files.isRegularFile(p)) {
                    TarArchiveEntry e = new TarArchiveEntry(p.toFile(), dir.relativize(p).toString());
                    tar.putArchiveEntry(e);
                    Files.copy(p, tar);
                    tar.closeArchiveEntry();
                }
            }
        }
    }

    private List<String> listTmp() throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("tmp"))) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void open_newRoot_mode0700_withLayoutDirs() throws IOException {
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
        for (String d : List.of("tmp", "layers", "images", "containers")) {
            assertTrue(Files.isDirectory(root.resolve(d)), d);
        }
    }

    @Test
    void import_ociLayout_layersByChainId_whiteoutInOverlayForm() throws Exception {
        Digest id = writeOci(tmp.resolve("oci"), baseTar, topTar, "demo:1");
        LayerStore.ImportResult r = store.importImage(tmp.resolve("oci"), null, 1 << 20);
        assertEquals(id, r.id());
        assertEquals("demo:1", r.tag());
        List<Digest> chain = ChainIds.of(List.of(Digest.sha256(baseTar), Digest.sha256(topTar)));
        assertEquals(chain, r.layers());
        assertEquals(Digest.sha256(baseTar), chain.get(0));
        assertEquals(Digest.sha256(chain.get(0) + " " + Digest.sha256(topTar)), chain.get(1));
        Path top = store.layout().layerDiff(chain.get(1));
        assertTrue(io.layerfs.sys.Sys.get().lstat(-100, top.resolve("etc/hostname").toString()).isWhiteoutDevice());
        assertEquals("base", Files.readString(store.layout().layerDiff(chain.get(0)).resolve("etc/hostname")));
        assertEquals(id, store.resolveImage("demo:1"));
        assertEquals(1, store.images().size());
        assertEquals(2, store.layers().size());
        assertEquals(List.of(), listTmp());
    }

    @Test
    void import_ociArchiveAndDockerSave_sameImageSameLayersStoredOnce() throws IOException {
        writeOci(tmp.resolve("oci"), baseTar, topTar, "x");
        tarDir(tmp.resolve("oci"), tmp.resolve("oci.tar"));
        LayerStore.ImportResult a = store.importImage(tmp.resolve("oci.tar"), "a", 1 << 20);
        assertEquals(2, a.newLayers());
        // docker save: manifest.json, HEX.json config, LAYER/layer.tar
        Path docker = Files.createDirectories(tmp.resolve("docker"));
        byte[] config = Files.readAllBytes(tmp.resolve("oci/blobs/sha256").resolve(a.id().hex()));
        Files.write(docker.resolve(a.id().hex() + ".json"), config);
        Files.createDirectories(docker.resolve("l1"));
        Files.createDirectories(docker.resolve("l2"));
        Files.write(docker.resolve("l1/layer.tar"), baseTar);
        Files.write(docker.resolve("l2/layer.tar"), topTar);
        Files.writeString(docker.resolve("manifest.json"), "[{\"Config\":\"" + a.id().hex() + ".json\","
                + "\"RepoTags\":[\"docker.io/library/demo:latest\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]");
        tarDir(docker, tmp.resolve("docker.tar"));
        LayerStore.ImportResult b = store.importImage(tmp.resolve("docker.tar"), null, 1 << 20);
        assertEquals(a.id(), b.id());
        assertEquals(0, b.newLayers());
        assertEquals("docker.io/library/demo:latest", b.tag());
        assertEquals(2, store.layers().size());
        assertEquals(List.of(), listTmp());
    }

    @Test
    void import_blobDigestMismatch_refused_nothingStored() throws IOException {
        writeOci(tmp.resolve("oci"), baseTar, topTar, "x");
        Path topBlob = tmp.resolve("oci/blobs/sha256").resolve(Digest.sha256(topTar).hex());
        byte[] changed = new Tars().dir("etc").file("etc/.wh.hostname", "").file("etc/motd", "HI").bytes();
        Files.write(topBlob, changed);
        StoreException e = assertThrows(StoreException.class, () -> store.importImage(tmp.resolve("oci"), null, 1 << 20));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        assertFalse(Files.exists(store.layout().layerDir(ChainIds.of(List.of(Digest.sha256(baseTar),
                Digest.sha256(topTar))).get(1))));
        assertEquals(0, store.images().size());
        assertEquals(List.of(), listTmp());
    }

    @Test
    void import_diffIdMismatch_refused() throws IOException {
        byte[] other = new Tars().file("other", "o").bytes();
        // the config claims `other` as the top layer's diffID: the layer is applied, then refused
        Path oci = tmp.resolve("oci");
        writeOci(oci, baseTar, topTar, "x");
        Path config = tmp.resolve("bad");
        writeOci(config, baseTar, other, "x");
        Files.copy(oci.resolve("blobs/sha256").resolve(Digest.sha256(topTar).hex()),
                config.resolve("blobs/sha256").resolve(Digest.sha256(other).hex()),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        StoreException e = assertThrows(StoreException.class, () -> store.importImage(config, null, 1 << 20));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        assertEquals(0, store.images().size());
    }

    @Test
    void containers_createPsMountPlanRm() throws IOException {
        writeOci(tmp.resolve("oci"), baseTar, topTar, "demo");
        store.importImage(tmp.resolve("oci"), null, 1 << 20);
        LayerStore.ContainerInfo c = store.create("demo", "c1");
        assertEquals(2, c.layers().size());
        assertThrows(StoreException.class, () -> store.create("demo", "c1"));
        assertThrows(StoreException.class, () -> store.create("demo", "../evil"));
        assertThrows(StoreException.class, () -> store.create("nope", "c2"));
        LayerStore.MountPlan plan = store.mountPlan("c1");
        assertEquals(store.layout().layerDiff(c.layers().get(1)), plan.lowers().get(0));
        assertTrue(Files.isDirectory(plan.upper()));
        assertEquals(List.of("c1"), store.containers().stream().map(LayerStore.ContainerInfo::name).toList());
        store.remove("c1");
        assertEquals(List.of(), store.containers());
        assertEquals(List.of(), listTmp());
    }

    @Test
    void open_sweepsLeftoversOfCrashedCommands() throws IOException {
        Files.createDirectories(root.resolve("tmp/dead/layer/diff"));
        Files.writeString(root.resolve("tmp/dead2.lock"), "");
        Files.createDirectories(root.resolve("tmp/dead2/x"));
        Files.writeString(root.resolve(".tmp-tags.json-123"), "{");
        try (Staging live = Staging.create(root.resolve("tmp"))) {
            LayerStore.open(root);
            assertEquals(List.of(live.dir().getFileName().toString(), live.dir().getFileName() + ".lock"),
                    listTmp().stream().sorted().toList());
        }
        assertFalse(Files.exists(root.resolve(".tmp-tags.json-123")));
    }

    @Test
    void tag_twoThreadsAtOnce_noUpdateLost() throws Exception {
        writeOci(tmp.resolve("tagged"), new Tars().file("a", "a").bytes(), new Tars().file("b", "b").bytes(), "x");
        Digest image = store.importImage(tmp.resolve("tagged"), null, LayerStore.DEFAULT_MAX_LAYER_BYTES).id();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int thread = t;
            fs.add(pool.submit(() -> {
                LayerStore own = LayerStore.open(root);
                for (int i = 0; i < 40; i++) {
                    own.tag("t" + thread + "-" + i, image);
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        assertEquals(81, store.tags().size(), "80 and the image's own name");
    }

    @Test
    void digest_refusesPathTricks() {
        assertThrows(IllegalArgumentException.class, () -> Digest.parse("sha256:../../x"));
        assertThrows(IllegalArgumentException.class, () -> Digest.parse("sha256:" + "A".repeat(64)));
        assertThrows(IllegalArgumentException.class, () -> Digest.parse("sha512:" + "a".repeat(64)));
        assertEquals("a".repeat(64), Digest.parse("sha256:" + "a".repeat(64)).hex());
    }
}
