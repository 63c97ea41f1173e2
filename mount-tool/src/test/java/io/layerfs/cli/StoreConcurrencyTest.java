package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.store.Digest;
import io.layerfs.store.LayerStore;

/**
 * Several layerfs processes on one store at once ({@link StoreWorker}, each a JVM running the real CLI):
 * concurrent imports of the same and of different images, create and rm, image rm and gc, while one
 * image ("churn") is stored and collected over and over. Afterwards the store must be exactly what the
 * commands asked for: every name any worker gave is there and names the right image (a lost update of
 * the tag file fails this), every image's and container's layers are stored with the digests and the
 * tree a sequential import gives, nothing is left in tmp, and gc removes nothing reachable.
 * With the metadata lock made a no-op this fails (a tag file write collides); with only gc.lock made
 * a no-op it fails too (gc collects churn layer e1 while e2, large on purpose, is still being applied).
 *
 * <pre>
 * images (layer tars built here; base is shared):
 *   A     = base, a1           (OCI layout directory)
 *   B     = base, a1, b2       (OCI layout directory)
 *   C     = c1                 (OCI archive)
 *   churn = base, e1, e2       (OCI layout directory; every worker imports it, removes it, runs gc)
 * </pre>
 */
class StoreConcurrencyTest {
    private static final int WORKERS = 4;
    private static final int ITERATIONS = 5;

    @TempDir
    Path tmp;

    @Test
    void manyProcesses_importCreateRmGcAtOnce_storeConsistent() throws Exception {
        byte[] base = layer(1, "base/", 4);
        byte[] a1 = layer(2, "a/", 3);
        byte[] b2 = layer(3, "b/", 3);
        byte[] c1 = layer(4, "c/", 3);
        byte[] e1 = layer(5, "e1/", 3);
        byte[] e2 = layer(6, "e2/", 24); // large: while it is applied, e1 is stored but not yet referenced
        Map<String, Digest> ids = new TreeMap<>();
        Path a = Files.createDirectories(tmp.resolve("A"));
        ids.put("A", ociLayout(a, "A", List.of(base, a1)));
        Path b = Files.createDirectories(tmp.resolve("B"));
        ids.put("B", ociLayout(b, "B", List.of(base, a1, b2)));
        Path cDir = Files.createDirectories(tmp.resolve("C"));
        ids.put("C", ociLayout(cDir, "C", List.of(c1)));
        Path c = tmp.resolve("C.tar");
        tarDirectory(cDir, c);
        Path churn = Files.createDirectories(tmp.resolve("churn"));
        Digest churnId = ociLayout(churn, "churn", List.of(base, e1, e2));
        List<Path> sources = List.of(a, b, c);

        Path root = tmp.resolve("store");
        List<Process> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    StoreWorker.class.getName(), root.toString(), String.valueOf(w), String.valueOf(ITERATIONS),
                    churn.toString()));
            sources.forEach(s -> cmd.add(s.toString()));
            workers.add(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(tmp.resolve("worker-" + w + ".err").toFile()).start());
        }
        for (int w = 0; w < WORKERS; w++) {
            Process p = workers.get(w);
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "worker " + w + " did not finish");
            assertEquals(0, p.exitValue(), "worker " + w + ": " + Files.readString(tmp.resolve("worker-" + w + ".err")));
        }

        // nothing left in tmp by processes that all exited normally (looked at before open() sweeps it)
        try (Stream<Path> left = Files.list(root.resolve("tmp"))) {
            assertEquals(List.of(), left.toList(), "leftovers in tmp");
        }

        LayerStore store = LayerStore.open(root);
        Map<String, Digest> expectedTags = new TreeMap<>();
        Set<String> expectedContainers = new HashSet<>();
        for (int w = 0; w < WORKERS; w++) {
            for (int i = 0; i < ITERATIONS; i++) {
                expectedTags.put("w" + w + "-" + i, ids.get(List.of("A", "B", "C").get((w + i) % 3)));
                if (i % 2 == 0) {
                    expectedContainers.add("c" + w + "-" + i);
                }
            }
        }
        assertEquals(expectedTags, store.tags(), "every worker's names, none of the churn names");
        assertEquals(Set.copyOf(ids.values()), imageIds(store), "the churn image " + churnId.shortHex() + " is gone");
        Set<String> containers = new HashSet<>();
        for (LayerStore.ContainerInfo ci : store.containers()) {
            containers.add(ci.name());
            assertEquals(store.images().stream().filter(i -> i.id().equals(ci.image())).findFirst().orElseThrow()
                    .layers(), ci.layers(), ci.name());
        }
        assertEquals(expectedContainers, containers);

        // every layer as a sequential import stores it: record, blob digest, tree
        Path refRoot = tmp.resolve("reference");
        LayerStore reference = LayerStore.open(refRoot);
        for (Path s : List.of(a, b, c, churn)) {
            reference.importImage(s, null, LayerStore.DEFAULT_MAX_LAYER_BYTES);
        }
        Set<Digest> reachable = new HashSet<>();
        for (LayerStore.ImageInfo image : store.images()) {
            reachable.addAll(image.layers());
        }
        for (Digest layer : reachable) {
            assertEquals(reference.layer(layer).diffId(), store.layer(layer).diffId(), layer.shortHex());
            LayerStore.LayerBlobInfo blob = store.layerBlob(layer);
            assertEquals(blob.digest(), Digest.of(sha256(Files.readAllBytes(blob.file()))), "blob of " + layer.shortHex());
            assertEquals(blob.diffId(), blob.digest(), "uncompressed layers: blob digest = diffID");
            assertEquals(tree(refRoot.resolve("layers").resolve(layer.hex()).resolve("diff")),
                    tree(store.layout().layerDiff(layer)), "tree of " + layer.shortHex());
        }

        // gc collects nothing reachable; what stays is exactly what images and containers reach
        LayerStore.GcResult gc = store.gc();
        for (Digest removed : gc.removedLayers()) {
            assertTrue(!reachable.contains(removed), "gc removed reachable " + removed);
        }
        Set<Digest> stored = new HashSet<>();
        store.layers().forEach(l -> stored.add(l.chainId()));
        assertEquals(reachable, stored);
        assertEquals(4 + 0, reachable.size(), "base, a1, b2 (over base+a1), c1");
    }

    private static Set<Digest> imageIds(LayerStore store) throws IOException {
        Set<Digest> out = new HashSet<>();
        store.images().forEach(i -> out.add(i.id()));
        return out;
    }

    /** An uncompressed layer tar: a directory and n files of 256 KiB of seeded random bytes. */
    private static byte[] layer(long seed, String dir, int n) throws IOException {
        Random random = new Random(seed);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry d = new TarArchiveEntry(dir);
            d.setMode(040755);
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[256 << 10];
                random.nextBytes(data);
                TarArchiveEntry f = new TarArchiveEntry(dir + "f" + i);
                f.setMode(0100644);
                f.setSize(data.length);
                tar.putArchiveEntry(f);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** Writes an OCI image layout (image-spec image-layout.md) of the given layers; returns the image ID. */
    private static Digest ociLayout(Path dir, String name, List<byte[]> layers) throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        StringBuilder diffIds = new StringBuilder();
        StringBuilder descriptors = new StringBuilder();
        for (byte[] l : layers) {
            Digest d = blob(blobs, l);
            diffIds.append(diffIds.length() == 0 ? "" : ",").append('"').append(d).append('"');
            descriptors.append(descriptors.length() == 0 ? "" : ",")
                    .append(descriptor("application/vnd.oci.image.layer.v1.tar", d, l.length));
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"name\":\"" + name
                + "\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}}").getBytes(StandardCharsets.UTF_8);
        Digest configDigest = blob(blobs, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":" + descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
                + ",\"layers\":[" + descriptors + "]}").getBytes(StandardCharsets.UTF_8);
        Digest manifestDigest = blob(blobs, manifest);
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":["
                + descriptor("application/vnd.oci.image.manifest.v1+json", manifestDigest, manifest.length) + "]}");
        return configDigest;
    }

    private static String descriptor(String mediaType, Digest d, long size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + d + "\",\"size\":" + size + "}";
    }

    private static Digest blob(Path blobs, byte[] data) throws IOException {
        Digest d = Digest.of(sha256(data));
        Files.write(blobs.resolve(d.hex()), data);
        return d;
    }

    /** An OCI archive: the layout directory as a tar. */
    private static void tarDirectory(Path dir, Path archive) throws IOException {
        try (OutputStream out = Files.newOutputStream(archive);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
             Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted().toList()) {
                if (p.equals(dir)) {
                    continue;
                }
                TarArchiveEntry e = new TarArchiveEntry(p.toFile(), dir.relativize(p).toString());
                tar.putArchiveEntry(e);
                if (Files.isRegularFile(p)) {
                    Files.copy(p, tar);
                }
                tar.closeArchiveEntry();
            }
        }
    }

    /** path|type|mode|size|sha256 of every file under dir, sorted. */
    private static List<String> tree(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted().toList()) {
                String line = dir.relativize(p) + "|"
                        + PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    line += "|" + Files.size(p) + "|" + Digest.of(sha256(Files.readAllBytes(p))).hex();
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    line += "|dir";
                } else {
                    line += "|other";
                }
                out.add(line);
            }
        }
        return out;
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
