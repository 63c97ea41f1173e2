package io.layerfs.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Promise 3 of issue 6: a layer is verified (blob size and digest against its descriptor, diffID
 * against the config) before it is stored, is read-only once stored, and a stored layer that no longer
 * matches what was verified is refused rather than used.
 * <pre>
 * tmp/oci/            an OCI layout of one gzip layer: f "data", d/g "more"
 * tmp/root/           the store
 * </pre>
 */
class StoredLayerTest {
    @TempDir
    Path tmp;
    Path root;
    LayerStore store;
    byte[] layerTar;
    byte[] blob;

    @BeforeEach
    void setUp() throws IOException {
        root = tmp.resolve("root");
        store = LayerStore.open(root);
        layerTar = new Tars().file("f", "data").dir("d").file("d/g", "more").bytes();
        blob = Tars.gzip(layerTar);
    }

    /** An OCI layout whose layer descriptor states declaredSize. */
    private Path oci(long declaredSize) throws IOException {
        Path dir = tmp.resolve("oci-" + declaredSize);
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        Digest layerD = write(blobs, blob);
        String config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Digest.sha256(layerTar) + "\"]}}";
        Digest configD = write(blobs, config.getBytes(StandardCharsets.UTF_8));
        String manifest = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + configD + "\",\"size\":" + config.length()
                + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\""
                + layerD + "\",\"size\":" + declaredSize + "}]}";
        Digest manifestD = write(blobs, manifest.getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" + manifestD
                + "\",\"size\":" + manifest.length() + "}]}");
        return dir;
    }

    private static Digest write(Path blobs, byte[] data) throws IOException {
        Digest d = Digest.sha256(data);
        Files.write(blobs.resolve(d.hex()), data);
        return d;
    }

    private Digest chain() {
        return Digest.sha256(layerTar); // a bottom layer's chain ID is its diffID
    }

    private void assertNothingStored() throws IOException {
        assertEquals(List.of(), store.layers());
        assertEquals(List.of(), store.images());
        try (Stream<Path> s = Files.list(root.resolve("tmp"))) {
            assertEquals(0, s.count(), "no staging left");
        }
    }

    @Test
    void import_blobSmallerOrLargerThanItsDescriptor_refused() throws IOException {
        for (long size : List.of((long) blob.length - 1, (long) blob.length + 1)) {
            StoreException e = assertThrows(StoreException.class, () -> store.importImage(oci(size), null,
                    LayerLimits.DEFAULTS));
            assertEquals(StoreException.Kind.BAD_CONTENT, e.kind());
            assertTrue(e.getMessage().contains("does not match its descriptor's size"), e.getMessage());
            assertNothingStored();
        }
        store.importImage(oci(blob.length), null, LayerLimits.DEFAULTS);
        assertEquals(1, store.layers().size());
    }

    @Test
    void import_storedBlobAndRecord_readOnly_verifyPasses() throws IOException {
        store.importImage(oci(blob.length), null, LayerLimits.DEFAULTS);
        StoreLayout l = store.layout();
        for (Path p : List.of(l.layerBlob(chain()), l.layerRecord(chain()))) {
            assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        }
        store.verifyLayer(chain());
    }

    @Test
    void verifyLayer_blobChangedAfterStoring_refused() throws IOException {
        store.importImage(oci(blob.length), null, LayerLimits.DEFAULTS);
        Path stored = store.layout().layerBlob(chain());
        Files.setPosixFilePermissions(stored, PosixFilePermissions.fromString("rw-r--r--"));
        byte[] changed = Tars.gzip(new Tars().file("f", "DATA").dir("d").file("d/g", "more").bytes());
        Files.write(stored, changed);
        StoreException e = assertThrows(StoreException.class, () -> store.verifyLayer(chain()));
        assertEquals(StoreException.Kind.BAD_CONTENT, e.kind());
        assertTrue(e.getMessage().contains("changed after it was stored"), e.getMessage());
        // same size, one byte different
        byte[] flipped = blob.clone();
        flipped[flipped.length / 2] ^= 1;
        Files.write(stored, flipped);
        assertThrows(StoreException.class, () -> store.verifyLayer(chain()));
    }

    @Test
    void import_again_recordChangedAfterStoring_refused() throws IOException {
        Path image = oci(blob.length);
        store.importImage(image, null, LayerLimits.DEFAULTS);
        Path record = store.layout().layerRecord(chain());
        Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rw-r--r--"));
        Digest other = Digest.sha256("other".getBytes(StandardCharsets.UTF_8));
        Files.writeString(record, Files.readString(record).replace(Digest.sha256(layerTar).toString(),
                other.toString()));
        StoreException e = assertThrows(StoreException.class, () -> store.importImage(image, "again",
                LayerLimits.DEFAULTS));
        assertEquals(StoreException.Kind.BAD_CONTENT, e.kind());
        assertTrue(e.getMessage().contains("damaged or was changed after it was stored"), e.getMessage());
        assertThrows(StoreException.class, () -> store.verifyLayer(chain()));
    }
}
