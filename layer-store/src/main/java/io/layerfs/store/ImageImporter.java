package io.layerfs.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Reads an image from an OCI image layout directory (image-spec image-layout.md), a tar of one (an OCI
 * archive), or a {@code docker save} tarball ({@code manifest.json}), and hands the store a verified
 * config and, per layer, a stream with the digests it must have. Archives are unpacked into a staging
 * directory first (regular files and directories only; names checked like layer names), so every
 * format is read as a directory afterwards.
 */
final class ImageImporter {
    static final String OCI_INDEX = "index.json";
    static final String DOCKER_MANIFEST = "manifest.json";
    private static final long MAX_JSON = 4L << 20;

    /** One layer to apply: where its blob is, the digest of that blob if a descriptor gives it, its diffID. */
    record LayerBlob(Path blob, Digest blobDigest, long blobSize, Digest diffId) {
    }

    /** What was read: the config exactly as stored, its digest (the image ID), the layers bottom first. */
    record Image(byte[] config, Digest id, List<LayerBlob> layers, List<Digest> diffIds, String refName,
                 String format) {
    }

    private ImageImporter() {
    }

    /** Unpacks archive into dir (an empty staging directory). */
    static void unpackArchive(Path archive, Path dir, ImportProgress progress) throws IOException {
        try (InputStream in = new LayerStore.Counted(Files.newInputStream(archive), progress);
             TarArchiveInputStream tar = new TarArchiveInputStream(new java.io.BufferedInputStream(in, 65536))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                List<String> parts = LayerApplier.parseName(e.getName());
                if (parts.isEmpty()) {
                    continue;
                }
                Path target = dir.resolve(String.join("/", parts));
                // links first: commons-compress calls every entry that is not a directory a "file"
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else if (e.isFile() && !e.isSymbolicLink() && !e.isLink()) {
                    Files.createDirectories(target.getParent());
                    checkInside(dir, target.getParent(), e.getName());
                    Files.copy(tar, target);
                } else if (e.isSymbolicLink() || e.isLink()) {
                    // docker save links repeated layers; copy the (already unpacked) target instead
                    Path from = e.isLink() ? dir.resolve(String.join("/", LayerApplier.parseName(e.getLinkName())))
                            : target.getParent().resolve(e.getLinkName()).normalize();
                    checkInside(dir, from, e.getName());
                    if (!Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
                        throw new StoreException(StoreException.Kind.BAD_CONTENT, "link " + e.getName()
                                + " in " + archive + " names no file before it");
                    }
                    Files.createDirectories(target.getParent());
                    checkInside(dir, target.getParent(), e.getName());
                    Files.copy(from, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
                // other entry types have no place in an image archive: ignored
            }
        } catch (LayerFormatException e) {
            throw new StoreException(StoreException.Kind.BAD_CONTENT, archive + ": " + e.getMessage(), e);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.NotDirectoryException e) {
            // a name given twice, a file where the archive wants a directory: the archive's fault
            throw new StoreException(StoreException.Kind.BAD_CONTENT, archive + ": cannot unpack " + e.getFile()
                    + " (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static void checkInside(Path dir, Path p, String name) throws StoreException {
        try {
            if (!p.toRealPath().startsWith(dir.toRealPath())) {
                throw new StoreException(StoreException.Kind.BAD_CONTENT, "archive entry escapes: " + name);
            }
        } catch (IOException e) {
            throw new StoreException(StoreException.Kind.BAD_CONTENT, "archive entry escapes: " + name, e);
        }
    }

    /** Reads an unpacked image directory, of either format. */
    static Image read(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(OCI_INDEX))) {
            return readOci(dir);
        }
        if (Files.isRegularFile(dir.resolve(DOCKER_MANIFEST))) {
            return readDocker(dir);
        }
        throw bad(dir + " is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)");
    }

    private static Image readOci(Path dir) throws IOException {
        JsonObject index = json(readSmall(dir.resolve(OCI_INDEX)), "index.json");
        JsonObject manifestDesc = pickManifest(dir, index);
        String refName = annotation(manifestDesc, "org.opencontainers.image.ref.name");
        JsonObject manifest = json(blob(dir, manifestDesc), "manifest");
        JsonObject configDesc = obj(manifest, "config");
        byte[] config = blob(dir, configDesc);
        JsonArray layers = arr(manifest, "layers");
        List<Digest> diffIds = diffIds(config);
        if (diffIds.size() != layers.size()) {
            throw bad("the manifest has " + layers.size() + " layers and the config " + diffIds.size() + " diff_ids");
        }
        List<LayerBlob> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            JsonObject d = layers.get(i).getAsJsonObject();
            Digest digest = digest(d);
            out.add(new LayerBlob(blobPath(dir, digest), digest, size(d), diffIds.get(i)));
        }
        return new Image(config, Digest.sha256(config), out, diffIds, refName, "oci");
    }

    /** The one image manifest of the index, descending into nested indexes; linux/amd64 among several. */
    private static JsonObject pickManifest(Path dir, JsonObject index) throws IOException {
        JsonArray manifests = arr(index, "manifests");
        List<JsonObject> candidates = new ArrayList<>();
        for (JsonElement m : manifests) {
            JsonObject d = m.getAsJsonObject();
            JsonObject p = d.has("platform") ? d.getAsJsonObject("platform") : null;
            if (p != null && !("linux".equals(str(p, "os")) && "amd64".equals(str(p, "architecture")))) {
                continue;
            }
            candidates.add(d);
        }
        if (candidates.isEmpty()) {
            throw bad("the index holds no linux/amd64 image");
        }
        if (candidates.size() > 1) {
            throw bad("the index holds " + candidates.size() + " images; layerfs imports one at a time");
        }
        JsonObject d = candidates.get(0);
        String type = str(d, "mediaType");
        if (type != null && (type.endsWith("image.index.v1+json") || type.endsWith("manifest.list.v2+json"))) {
            return pickManifest(dir, json(blob(dir, d), "index"));
        }
        return d;
    }

    private static Image readDocker(Path dir) throws IOException {
        JsonElement top = JsonParser.parseString(new String(readSmall(dir.resolve(DOCKER_MANIFEST)),
                java.nio.charset.StandardCharsets.UTF_8));
        if (!top.isJsonArray() || top.getAsJsonArray().size() != 1) {
            throw bad("manifest.json must list exactly one image");
        }
        JsonObject m = top.getAsJsonArray().get(0).getAsJsonObject();
        String configName = str(m, "Config");
        if (configName == null) {
            throw bad("manifest.json names no Config");
        }
        Path configPath = member(dir, configName);
        byte[] config = readSmall(configPath);
        Digest id = Digest.sha256(config);
        // the config's file name is its digest ("HEX.json" or "blobs/sha256/HEX"): check it where it is one
        String base = configPath.getFileName().toString().replaceFirst("\\.json$", "");
        if (Digest.isHex(base) && !Digest.ofHex(base).equals(id)) {
            throw bad("config " + configName + " does not match its digest (sha256 is " + id + ")");
        }
        JsonArray layers = arr(m, "Layers");
        List<Digest> diffIds = diffIds(config);
        if (diffIds.size() != layers.size()) {
            throw bad("manifest.json has " + layers.size() + " layers and the config " + diffIds.size()
                    + " diff_ids");
        }
        List<LayerBlob> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Path p = member(dir, layers.get(i).getAsString());
            out.add(new LayerBlob(p, null, -1, diffIds.get(i)));
        }
        String ref = null;
        if (m.has("RepoTags") && m.get("RepoTags").isJsonArray() && m.getAsJsonArray("RepoTags").size() > 0) {
            ref = m.getAsJsonArray("RepoTags").get(0).getAsString();
        }
        return new Image(config, id, out, diffIds, ref, "docker-archive");
    }

    private static List<Digest> diffIds(byte[] config) throws StoreException {
        JsonObject c = json(config, "config");
        JsonObject rootfs = obj(c, "rootfs");
        if (!"layers".equals(str(rootfs, "type"))) {
            throw bad("config rootfs.type is not \"layers\"");
        }
        List<Digest> out = new ArrayList<>();
        for (JsonElement d : arr(rootfs, "diff_ids")) {
            out.add(parseDigest(d.getAsString()));
        }
        return out;
    }

    /** A blob named by its descriptor, checked against the descriptor's digest and size. */
    private static byte[] blob(Path dir, JsonObject descriptor) throws IOException {
        Digest d = digest(descriptor);
        byte[] data = readSmall(blobPath(dir, d));
        if (!Digest.sha256(data).equals(d)) {
            throw bad("blob " + d + " does not match its digest (sha256 is " + Digest.sha256(data) + ")");
        }
        long size = size(descriptor);
        if (size >= 0 && size != data.length) {
            throw bad("blob " + d + " has " + data.length + " bytes, its descriptor says " + size);
        }
        return data;
    }

    private static Path blobPath(Path dir, Digest d) {
        return dir.resolve("blobs").resolve("sha256").resolve(d.hex());
    }

    private static Path member(Path dir, String name) throws StoreException {
        try {
            List<String> parts = LayerApplier.parseName(name);
            if (parts.isEmpty()) {
                throw bad("empty file name in manifest.json");
            }
            return dir.resolve(String.join("/", parts));
        } catch (LayerFormatException e) {
            throw bad("bad file name in manifest.json: " + name);
        }
    }

    private static byte[] readSmall(Path p) throws IOException {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw bad("missing file in image: " + p.getFileName());
        }
        if (Files.size(p) > MAX_JSON) {
            throw bad(p.getFileName() + " is too large for a manifest or config");
        }
        return Files.readAllBytes(p);
    }

    private static Digest digest(JsonObject descriptor) throws StoreException {
        String d = str(descriptor, "digest");
        return parseDigest(d);
    }

    private static Digest parseDigest(String d) throws StoreException {
        try {
            return Digest.parse(d);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    private static long size(JsonObject d) {
        return d.has("size") ? d.get("size").getAsLong() : -1;
    }

    private static String annotation(JsonObject d, String key) {
        if (d.has("annotations") && d.get("annotations").isJsonObject()) {
            return str(d.getAsJsonObject("annotations"), key);
        }
        return null;
    }

    private static JsonObject json(byte[] data, String what) throws StoreException {
        try {
            JsonElement e = JsonParser.parseString(new String(data, java.nio.charset.StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw bad(what + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (RuntimeException e) {
            throw bad(what + " is not valid JSON: " + e.getMessage());
        }
    }

    private static JsonObject obj(JsonObject o, String key) throws StoreException {
        if (!o.has(key) || !o.get(key).isJsonObject()) {
            throw bad("missing \"" + key + "\"");
        }
        return o.getAsJsonObject(key);
    }

    private static JsonArray arr(JsonObject o, String key) throws StoreException {
        if (!o.has(key) || !o.get(key).isJsonArray()) {
            throw bad("missing \"" + key + "\"");
        }
        return o.getAsJsonArray(key);
    }

    private static String str(JsonObject o, String key) {
        return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : null;
    }

    private static StoreException bad(String message) {
        return new StoreException(StoreException.Kind.BAD_CONTENT, message);
    }
}
