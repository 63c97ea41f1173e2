package io.layerfs.store;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.reflect.TypeToken;

/**
 * The layer store: images, layers and containers under one root (layout: {@link StoreLayout}).
 *
 * <p>Lifecycle, as a container engine's storage: {@link #importImage} verifies an image and stores each
 * layer once, applied in overlay format, under its chain ID; {@link #create} gives a container an empty
 * upper and work directory over an image's layers; {@link #mountPlan} says what to mount (lowers top
 * first, upper, work); {@link #remove} deletes a container.
 *
 * <p>Who owns what: {@link StoreLayout} all paths; {@link Staging} building new state out of sight and
 * publishing it by rename; {@link StoreLock} the metadata lock; {@link AtomicFiles} durable metadata
 * writes; {@link LayerApplier} turning a layer tar into a directory; {@link ImageImporter} reading image
 * formats. Content becomes visible only by a rename after its digests were checked; removal takes it
 * out of sight by a rename first and deletes files after.
 */
public final class LayerStore {
    /** Default limit on one layer's uncompressed size: 64 GiB ({@link LayerLimits}). */
    public static final long DEFAULT_MAX_LAYER_BYTES = LayerLimits.DEFAULT_MAX_UNCOMPRESSED_BYTES;

    private static final Type TAGS = new TypeToken<TreeMap<String, String>>() { }.getType();

    /** An image as listed. layers: chain IDs, bottom first; size: uncompressed bytes of its layers. */
    public record ImageInfo(Digest id, List<String> tags, List<Digest> layers, long size, String created) {
    }

    /** A stored layer. parent is null for a bottom layer. */
    public record LayerInfo(Digest chainId, Digest diffId, Digest parent, long size, String created) {
    }

    /** A container. layers: chain IDs, bottom first. */
    public record ContainerInfo(String name, Digest image, List<Digest> layers, String created) {
    }

    /** What to mount for a container: lowers highest first (as lowerdir=), upper and work. */
    public record MountPlan(List<Path> lowers, Path upper, Path work) {
    }

    /** The result of an import: the image, its layers, and how many of them were new. */
    public record ImportResult(Digest id, String tag, List<Digest> layers, int newLayers, String format) {
    }

    private final StoreLayout layout;

    private LayerStore(StoreLayout layout) {
        this.layout = layout;
    }

    /**
     * Opens (creating it) the store at root and sweeps what interrupted commands left. The root is kept
     * at mode 0700, an existing one too: the uppers and diffs below it hold other images' setuid files,
     * which host users must not reach.
     */
    public static LayerStore open(Path root) throws IOException {
        StoreLayout layout = new StoreLayout(root);
        if (!Files.isDirectory(layout.root())) {
            Files.createDirectories(layout.root());
        }
        if (!PRIVATE.equals(Files.getPosixFilePermissions(layout.root()))) {
            Files.setPosixFilePermissions(layout.root(), PRIVATE);
        }
        for (Path dir : List.of(layout.tmp(), layout.layers(), layout.images(), layout.containers())) {
            Files.createDirectories(dir);
        }
        Staging.sweep(layout.tmp());
        try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
            AtomicFiles.sweepTemps(layout.root());
        }
        return new LayerStore(layout);
    }

    public StoreLayout layout() {
        return layout;
    }

    // ---- images -------------------------------------------------------------------------------------

    /**
     * Imports an OCI layout directory, OCI archive or docker save tarball. Each layer is applied in a
     * staging directory and published only after its blob digest (where a descriptor gives one) and its
     * diffID matched; layers already stored are not read again. tag may be null: then the archive's own
     * name (OCI ref.name annotation, docker RepoTags) is used if it has one.
     */
    public ImportResult importImage(Path source, String tag, long maxLayerBytes) throws IOException {
        return importImage(source, tag, LayerLimits.withMaxLayerBytes(maxLayerBytes), ImportProgress.NONE);
    }

    /** {@link #importImage(Path, String, long)} with every layer held to limits. */
    public ImportResult importImage(Path source, String tag, LayerLimits limits) throws IOException {
        return importImage(source, tag, limits, ImportProgress.NONE);
    }

    /** {@link #importImage(Path, String, long)}, reporting the bytes read per step to progress. */
    public ImportResult importImage(Path source, String tag, long maxLayerBytes, ImportProgress progress)
            throws IOException {
        return importImage(source, tag, LayerLimits.withMaxLayerBytes(maxLayerBytes), progress);
    }

    /** {@link #importImage(Path, String, LayerLimits)}, reporting the bytes read per step to progress. */
    public ImportResult importImage(Path source, String tag, LayerLimits limits, ImportProgress progress)
            throws IOException {
        if (!Files.exists(source)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such file or directory: " + source);
        }
        if (tag != null) {
            checkTag(tag);
        }
        try (StoreLock adding = StoreLock.shared(layout.gcLockFile());
             Staging unpacked = Files.isDirectory(source) ? null : Staging.create(layout.tmp())) {
            Path dir = source;
            if (unpacked != null) {
                progress.start("unpack " + source.getFileName(), Files.size(source));
                try {
                    ImageImporter.unpackArchive(source, unpacked.dir(), progress);
                } finally {
                    progress.finish();
                }
                dir = unpacked.dir();
            }
            ImageImporter.Image image = ImageImporter.read(dir);
            String name = tag != null ? tag : image.refName();
            if (name != null) {
                checkTag(name);
            }
            return store(image, name, limits, source.toAbsolutePath().toString(), progress);
        }
    }

    /** Stores the layers not stored yet (each verified by {@link #storeLayer}), the image, and its tag. */
    private ImportResult store(ImageImporter.Image image, String name, LayerLimits limits, String source,
                               ImportProgress progress) throws IOException {
        List<Digest> chain = ChainIds.of(image.diffIds());
        int created = 0;
        for (int i = 0; i < chain.size(); i++) {
            String label = "layer " + (i + 1) + "/" + chain.size() + " " + image.diffIds().get(i).shortHex();
            if (storeLayer(image.layers().get(i), chain.get(i), i == 0 ? null : chain.get(i - 1), limits,
                    label, progress)) {
                created++;
            }
        }
        // an image rm of the same image may delete it between storeImage and the tag; tagging checks
        // that the image is there under the metadata lock, and stores it again if it is not
        for (int attempt = 0; ; attempt++) {
            storeImage(image, chain, source);
            if (name == null || tagIfPresent(name, image.id())) {
                break;
            }
            if (attempt == 10) {
                throw new StoreException(StoreException.Kind.BUSY, "image " + image.id().shortHex()
                        + " keeps being removed while it is imported");
            }
        }
        return new ImportResult(image.id(), name, chain, created, image.format());
    }

    /**
     * Stores one layer unless it is stored already. Verified before anything is published: the blob's
     * size and sha256 against its descriptor (where one gives them), the uncompressed sha256 against the
     * config's diffID. A layer found stored must carry the record its chain ID implies.
     */
    private boolean storeLayer(ImageImporter.LayerBlob blob, Digest chainId, Digest parent, LayerLimits limits,
                               String label, ImportProgress progress) throws IOException {
        if (Files.isDirectory(layout.layerDir(chainId))) {
            checkRecord(chainId, blob.diffId(), parent);
            return false;
        }
        if (blob.blob() == null) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "layer " + chainId + " is not stored");
        }
        if (blob.blobSize() >= 0 && Files.size(blob.blob()) != blob.blobSize()) {
            throw new LayerFormatException("layer blob " + blob.blobDigest() + " does not match its descriptor's size"
                    + " (it has " + Files.size(blob.blob()) + " bytes, the descriptor says " + blob.blobSize() + ")");
        }
        try (Staging staging = Staging.create(layout.tmp())) {
            Path layerDir = staging.dir().resolve("layer");
            Path diff = layerDir.resolve(StoreLayout.DIFF);
            Files.createDirectories(diff);
            LayerApplier.Result r;
            Path kept = layerDir.resolve(StoreLayout.BLOB);
            // the blob is kept as it came (hashed and applied in the same pass), so an export can
            // hand out the very bytes whose digests the image's manifest and config name
            progress.start(label, Files.size(blob.blob()));
            try (InputStream in = new Tee(new Counted(Files.newInputStream(blob.blob()), progress),
                    Files.newOutputStream(kept))) {
                r = LayerApplier.withLimits(limits).apply(in, diff);
            } catch (LayerFormatException e) {
                throw new LayerFormatException("layer " + blob.diffId().shortHex() + ": " + e.getMessage(), e);
            } finally {
                progress.finish();
            }
            if (blob.blobDigest() != null && !r.compressedDigest().equals(blob.blobDigest())) {
                throw new LayerFormatException("layer blob " + blob.blobDigest() + " does not match its digest"
                        + " (sha256 is " + r.compressedDigest() + ")");
            }
            if (!r.diffId().equals(blob.diffId())) {
                throw new LayerFormatException("layer " + blob.diffId() + " does not match the config's diff_id"
                        + " (its uncompressed sha256 is " + r.diffId() + ")");
            }
            if (blob.blobSize() >= 0 && Files.size(kept) != blob.blobSize()) {
                throw new LayerFormatException("layer blob " + blob.blobDigest() + " does not match its descriptor's"
                        + " size (it has " + Files.size(kept) + " bytes, the descriptor says " + blob.blobSize() + ")");
            }
            AtomicFiles.writeSynced(layerDir.resolve(StoreLayout.LAYER_JSON), Records.toJson(new Records.Layer(
                    chainId.toString(), r.diffId().toString(), parent == null ? null : parent.toString(),
                    r.uncompressedSize(), Instant.now().toString(), r.mediaType(), r.compressedDigest().toString(),
                    Files.size(kept))));
            // read-only from here on: nothing in layerfs opens a stored layer for writing
            Files.setPosixFilePermissions(kept, READ_ONLY);
            Files.setPosixFilePermissions(layerDir.resolve(StoreLayout.LAYER_JSON), READ_ONLY);
            // the applier does not fsync file by file: one syncfs makes the blob, every file and every
            // directory of the layer durable before the rename publishes it
            AtomicFiles.syncFilesystem(layerDir);
            return staging.publish(layerDir, layout.layerDir(chainId));
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> PRIVATE =
            PosixFilePermissions.fromString("rwx------");
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> READ_ONLY =
            PosixFilePermissions.fromString("r--r--r--");

    /** A stored layer's record must name the chain ID, diffID and parent it is stored under. */
    private void checkRecord(Digest chainId, Digest diffId, Digest parent) throws IOException {
        LayerInfo l;
        try {
            l = layer(chainId);
        } catch (IOException | IllegalArgumentException e) {
            throw damaged(chainId, "its record cannot be read: " + e.getMessage());
        }
        if (!l.chainId().equals(chainId) || !l.diffId().equals(diffId)
                || (parent == null ? l.parent() != null : !parent.equals(l.parent()))) {
            throw damaged(chainId, "its record names chain ID " + l.chainId().shortHex() + ", diffID "
                    + l.diffId().shortHex() + ", parent " + (l.parent() == null ? "none" : l.parent().shortHex()));
        }
    }

    private static StoreException damaged(Digest chainId, String why) {
        return new StoreException(StoreException.Kind.BAD_CONTENT, "stored layer " + chainId.shortHex()
                + " is damaged or was changed after it was stored (" + why + "): remove the images that use it, "
                + "run gc and import again");
    }

    /**
     * Checks a stored layer against what it was verified as: the kept blob's size and sha256, its
     * uncompressed sha256 (the diffID), and the chain ID that diffID and the parent imply. Reads the
     * whole blob; throws a BAD_CONTENT StoreException naming the first mismatch.
     */
    public void verifyLayer(Digest chainId) throws IOException {
        Records.Layer r = Records.fromJson(Files.readAllBytes(layout.layerRecord(chainId)), Records.Layer.class,
                "layer record " + chainId.shortHex());
        Digest diffId = Digest.parse(r.diffId());
        Digest expectedChain = r.parent() == null ? diffId : Digest.sha256(r.parent() + " " + diffId);
        if (!expectedChain.equals(chainId) || !chainId.toString().equals(r.chainId())) {
            throw damaged(chainId, "its record's diffID and parent give chain ID " + expectedChain.shortHex());
        }
        Path blob = layout.layerBlob(chainId);
        if (r.blobDigest() == null || !Files.isRegularFile(blob, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw damaged(chainId, "its blob is missing");
        }
        if (Files.size(blob) != r.blobSize()) {
            throw damaged(chainId, "its blob has " + Files.size(blob) + " bytes, not " + r.blobSize());
        }
        java.security.MessageDigest compressed = Digest.newSha256();
        java.security.MessageDigest plain = Digest.newSha256();
        try (java.io.BufferedInputStream in = new java.io.BufferedInputStream(new java.security.DigestInputStream(
                Files.newInputStream(blob), compressed), 1 << 16)) {
            LayerApplier.Compression c = LayerApplier.Compression.detect(in);
            try (InputStream u = new java.security.DigestInputStream(c.open(in, LayerLimits.DEFAULT_MAX_ZSTD_WINDOW_LOG),
                    plain)) {
                u.transferTo(java.io.OutputStream.nullOutputStream());
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw damaged(chainId, "its blob cannot be decompressed: " + e.getMessage());
            }
        }
        if (!Digest.of(compressed.digest()).toString().equals(r.blobDigest())) {
            throw damaged(chainId, "its blob's sha256 is not " + r.blobDigest());
        }
        if (!Digest.of(plain.digest()).equals(diffId)) {
            throw damaged(chainId, "its blob's uncompressed sha256 is not its diffID " + diffId);
        }
    }

    private void storeImage(ImageImporter.Image image, List<Digest> chain, String source) throws IOException {
        if (Files.isDirectory(layout.imageDir(image.id()))) {
            return;
        }
        try (Staging staging = Staging.create(layout.tmp())) {
            Path dir = staging.dir().resolve("image");
            Files.createDirectories(dir);
            AtomicFiles.writeSynced(dir.resolve(StoreLayout.CONFIG_JSON), image.config());
            AtomicFiles.writeSynced(dir.resolve(StoreLayout.IMAGE_JSON), Records.toJson(new Records.Image(
                    image.id().toString(), strings(chain), strings(image.diffIds()), Instant.now().toString(),
                    source)));
            AtomicFiles.syncDirectory(dir);
            staging.publish(dir, layout.imageDir(image.id()));
        }
    }

    /** Points tag at image, replacing what it named before. */
    public void tag(String tag, Digest image) throws IOException {
        if (!tagIfPresent(tag, image)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such image: " + image);
        }
    }

    /** Points tag at image if the image is stored (checked under the lock that image rm takes); false if not. */
    private boolean tagIfPresent(String tag, Digest image) throws IOException {
        checkTag(tag);
        try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
            if (!Files.isDirectory(layout.imageDir(image))) {
                return false;
            }
            TreeMap<String, String> tags = readTags();
            tags.put(tag, image.toString());
            AtomicFiles.write(layout.tags(), Records.gson().toJson(tags).getBytes(StandardCharsets.UTF_8));
            return true;
        }
    }

    public Map<String, Digest> tags() throws IOException {
        try (StoreLock lock = StoreLock.shared(layout.lockFile())) {
            Map<String, Digest> out = new TreeMap<>();
            for (Map.Entry<String, String> e : readTags().entrySet()) {
                out.put(e.getKey(), Digest.parse(e.getValue()));
            }
            return out;
        }
    }

    private TreeMap<String, String> readTags() throws IOException {
        if (!Files.exists(layout.tags())) {
            return new TreeMap<>();
        }
        try {
            TreeMap<String, String> t = Records.gson().fromJson(Files.readString(layout.tags()), TAGS);
            return t == null ? new TreeMap<>() : t;
        } catch (RuntimeException e) {
            throw new StoreException(StoreException.Kind.BAD_CONTENT, "corrupt " + layout.tags() + ": " + e.getMessage());
        }
    }

    private static void checkTag(String tag) throws StoreException {
        if (tag.isEmpty() || tag.length() > 255 || !tag.matches("[A-Za-z0-9][A-Za-z0-9._:/@-]*")) {
            throw new StoreException(StoreException.Kind.INVALID, "bad image name '" + tag + "'");
        }
    }

    /** An image by tag, full ID ({@code sha256:...} or hex) or unique ID prefix of at least 4 digits. */
    public Digest resolveImage(String ref) throws IOException {
        Digest tagged = tags().get(ref);
        if (tagged != null) {
            return tagged;
        }
        String hex = ref.startsWith("sha256:") ? ref.substring(7) : ref;
        if (hex.length() >= 4 && hex.matches("[0-9a-f]+")) {
            List<Digest> matches = new ArrayList<>();
            for (Digest id : imageIds()) {
                if (id.hex().startsWith(hex)) {
                    matches.add(id);
                }
            }
            if (matches.size() == 1) {
                return matches.get(0);
            }
            if (matches.size() > 1) {
                throw new StoreException(StoreException.Kind.INVALID, "image ID prefix " + ref + " is ambiguous");
            }
        }
        throw new StoreException(StoreException.Kind.NOT_FOUND, "no such image: " + ref);
    }

    private List<Digest> imageIds() throws IOException {
        return hexNames(layout.images());
    }

    /** The images, read under the shared lock so that a concurrent image rm or gc cannot pull one away midway. */
    public List<ImageInfo> images() throws IOException {
        try (StoreLock lock = StoreLock.shared(layout.lockFile())) {
            return imagesLocked();
        }
    }

    private List<ImageInfo> imagesLocked() throws IOException {
        Map<String, Digest> tags = new TreeMap<>();
        for (Map.Entry<String, String> e : readTags().entrySet()) {
            tags.put(e.getKey(), Digest.parse(e.getValue()));
        }
        List<ImageInfo> out = new ArrayList<>();
        for (Digest id : imageIds()) {
            Records.Image rec = Records.fromJson(Files.readAllBytes(layout.imageRecord(id)), Records.Image.class,
                    "image record " + id.shortHex());
            List<String> names = new ArrayList<>();
            tags.forEach((t, d) -> {
                if (d.equals(id)) {
                    names.add(t);
                }
            });
            List<Digest> layers = digests(rec.layers());
            long size = 0;
            for (Digest l : layers) {
                size += layer(l).size();
            }
            out.add(new ImageInfo(id, names, layers, size, rec.created()));
        }
        return out;
    }

    // ---- layers -------------------------------------------------------------------------------------

    public List<LayerInfo> layers() throws IOException {
        List<LayerInfo> out = new ArrayList<>();
        for (Digest chain : hexNames(layout.layers())) {
            out.add(layer(chain));
        }
        return out;
    }

    public LayerInfo layer(Digest chainId) throws IOException {
        Path p = layout.layerRecord(chainId);
        if (!Files.exists(p)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such layer: " + chainId);
        }
        Records.Layer r = Records.fromJson(Files.readAllBytes(p), Records.Layer.class, "layer record " + chainId.shortHex());
        return new LayerInfo(Digest.parse(r.chainId()), Digest.parse(r.diffId()),
                r.parent() == null ? null : Digest.parse(r.parent()), r.size(), r.created());
    }

    // ---- containers ---------------------------------------------------------------------------------

    /** A new container over image: an empty upper and work directory, published by one rename. */
    public ContainerInfo create(String imageRef, String name) throws IOException {
        StoreLayout.checkContainerName(name);
        Digest image = resolveImage(imageRef);
        Records.Image rec = Records.fromJson(Files.readAllBytes(layout.imageRecord(image)), Records.Image.class,
                "image record " + image.shortHex());
        String created = Instant.now().toString();
        try (StoreLock adding = StoreLock.shared(layout.gcLockFile());
             Staging staging = Staging.create(layout.tmp())) {
            Path dir = staging.dir().resolve("container");
            Files.createDirectories(dir.resolve(StoreLayout.UPPER));
            Files.createDirectories(dir.resolve(StoreLayout.WORK));
            AtomicFiles.writeSynced(dir.resolve(StoreLayout.CONTAINER_JSON),
                    Records.toJson(new Records.Container(name, image.toString(), rec.layers(), created)));
            AtomicFiles.syncDirectory(dir);
            try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
                if (!Files.isDirectory(layout.imageDir(image))) {
                    throw new StoreException(StoreException.Kind.NOT_FOUND, "no such image: " + imageRef);
                }
                if (!staging.publish(dir, layout.containerDir(name))) {
                    throw new StoreException(StoreException.Kind.EXISTS, "a container named " + name + " exists");
                }
            }
        }
        return new ContainerInfo(name, image, digests(rec.layers()), created);
    }

    public ContainerInfo container(String name) throws IOException {
        Path p = layout.containerRecord(name);
        if (!Files.exists(p)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such container: " + name);
        }
        Records.Container c = Records.fromJson(Files.readAllBytes(p), Records.Container.class, "container " + name);
        return new ContainerInfo(c.name(), Digest.parse(c.image()), digests(c.layers()), c.created());
    }

    /** The containers, read under the shared lock so that a concurrent rm cannot pull one away midway. */
    public List<ContainerInfo> containers() throws IOException {
        try (StoreLock lock = StoreLock.shared(layout.lockFile())) {
            List<ContainerInfo> out = new ArrayList<>();
            for (String n : containerNames()) {
                out.add(container(n));
            }
            return out;
        }
    }

    /** The layer directories of an image, highest first (the order of lowerdir=). */
    public List<Path> imageLowers(String ref) throws IOException {
        Digest image = resolveImage(ref);
        Records.Image rec = Records.fromJson(Files.readAllBytes(layout.imageRecord(image)), Records.Image.class,
                "image record " + image.shortHex());
        List<Path> lowers = new ArrayList<>();
        for (Digest l : digests(rec.layers())) {
            lowers.add(0, layout.layerDiff(l));
        }
        return lowers;
    }

    /** The directories to mount for a container. */
    public MountPlan mountPlan(String name) throws IOException {
        ContainerInfo c = container(name);
        List<Path> lowers = new ArrayList<>();
        for (Digest l : c.layers()) {
            lowers.add(0, layout.layerDiff(l));
        }
        return new MountPlan(lowers, layout.containerUpper(name), layout.containerWork(name));
    }

    /**
     * Removes a container: its directory is renamed into a staging directory first (it is gone for
     * every reader at that moment), then deleted. The caller makes sure it is not mounted.
     */
    public void remove(String name) throws IOException {
        Path dir = layout.containerDir(name);
        try (Staging staging = Staging.create(layout.tmp())) {
            try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
                if (!Files.isDirectory(dir)) {
                    throw new StoreException(StoreException.Kind.NOT_FOUND, "no such container: " + name);
                }
                Files.move(dir, staging.dir().resolve("doomed"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.syncDirectory(layout.containers());
            }
        }
    }

    // ---- diff, commit, export -----------------------------------------------------------------------

    /** What the container changed against its image, read from its upper directory ({@link Changes}). */
    public List<Changes.Change> diff(String name) throws IOException {
        MountPlan plan = mountPlan(name);
        return Changes.of(plan.upper(), plan.lowers());
    }

    /**
     * Commits a container's upper as a new layer on its image: the upper is written as a deterministic
     * OCI layer tar ({@link LayerTarWriter}) into a staging directory, then stored through the same
     * verified path as an imported layer, under a new image whose config appends the layer's diffID and
     * a history entry. tag may be null.
     */
    public ImportResult commit(String name, String tag, String comment) throws IOException {
        if (tag != null) {
            checkTag(tag);
        }
        ContainerInfo c = container(name);
        try (StoreLock adding = StoreLock.shared(layout.gcLockFile());
             Staging staging = Staging.create(layout.tmp())) {
            Path tarFile = staging.dir().resolve("layer.tar");
            LayerTarWriter.Written w;
            try (java.io.OutputStream o = new java.io.BufferedOutputStream(Files.newOutputStream(tarFile), 1 << 16)) {
                w = LayerTarWriter.write(layout.containerUpper(name), o);
            }
            com.google.gson.JsonObject config = com.google.gson.JsonParser.parseString(
                    Files.readString(layout.imageConfig(c.image()))).getAsJsonObject();
            String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
            config.addProperty("created", now);
            config.getAsJsonObject("rootfs").getAsJsonArray("diff_ids").add(w.diffId().toString());
            if (!config.has("history") || !config.get("history").isJsonArray()) {
                config.add("history", new com.google.gson.JsonArray());
            }
            com.google.gson.JsonArray history = config.getAsJsonArray("history");
            int described = 0;
            for (com.google.gson.JsonElement el : history) {
                com.google.gson.JsonObject o = el.getAsJsonObject();
                if (!(o.has("empty_layer") && o.get("empty_layer").getAsBoolean())) {
                    described++;
                }
            }
            // config.md: history has one non-empty entry per layer; keep that true for what we add
            for (int i = described; i < c.layers().size(); i++) {
                com.google.gson.JsonObject pad = new com.google.gson.JsonObject();
                pad.addProperty("comment", "layer without history");
                history.add(pad);
            }
            com.google.gson.JsonObject h = new com.google.gson.JsonObject();
            h.addProperty("created", now);
            h.addProperty("created_by", "layerfs commit " + name);
            if (comment != null) {
                h.addProperty("comment", comment);
            }
            config.getAsJsonArray("history").add(h);
            byte[] bytes = new com.google.gson.GsonBuilder().disableHtmlEscaping().create().toJson(config)
                    .getBytes(StandardCharsets.UTF_8);
            List<Digest> diffIds = new ArrayList<>();
            List<ImageImporter.LayerBlob> blobs = new ArrayList<>();
            for (Digest chainId : c.layers()) {
                LayerInfo l = layer(chainId);
                diffIds.add(l.diffId());
                blobs.add(new ImageImporter.LayerBlob(null, null, -1, l.diffId()));
            }
            diffIds.add(w.diffId());
            blobs.add(new ImageImporter.LayerBlob(tarFile, w.diffId(), w.size(), w.diffId()));
            ImageImporter.Image image = new ImageImporter.Image(bytes, Digest.sha256(bytes), blobs, diffIds, null,
                    "commit");
            return store(image, tag, LayerLimits.ownLayer(), "container " + name, ImportProgress.NONE);
        }
    }

    /** An image's config exactly as stored. */
    public byte[] imageConfig(Digest image) throws IOException {
        Path p = layout.imageConfig(image);
        if (!Files.exists(p)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such image: " + image);
        }
        return Files.readAllBytes(p);
    }

    /** The stored blob of a layer, with its descriptor fields. */
    public record LayerBlobInfo(Path file, Digest digest, long size, String mediaType, Digest diffId) {
    }

    public LayerBlobInfo layerBlob(Digest chainId) throws IOException {
        Records.Layer r = Records.fromJson(Files.readAllBytes(layout.layerRecord(chainId)), Records.Layer.class,
                "layer record " + chainId.shortHex());
        if (r.blobDigest() == null || !Files.isRegularFile(layout.layerBlob(chainId))) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "layer " + chainId.shortHex()
                    + " has no stored blob (stored by an older layerfs): import the image again");
        }
        return new LayerBlobInfo(layout.layerBlob(chainId), Digest.parse(r.blobDigest()), r.blobSize(), r.mediaType(),
                Digest.parse(r.diffId()));
    }

    /** Exports an image as an OCI layout directory, OCI archive or docker save archive ({@link ImageExporter}). */
    public void export(String ref, Path target, ImageExporter.Format format) throws IOException {
        Digest id = resolveImage(ref);
        String name = tags().containsKey(ref) ? ref : null;
        if (name == null) {
            for (ImageInfo i : images()) {
                if (i.id().equals(id) && !i.tags().isEmpty()) {
                    name = i.tags().get(0);
                }
            }
        }
        List<LayerBlobInfo> blobs = new ArrayList<>();
        try (StoreLock adding = StoreLock.shared(layout.gcLockFile())) {
            for (Digest chainId : imageLayers(id)) {
                blobs.add(layerBlob(chainId));
            }
            ImageExporter.export(imageConfig(id), blobs, name, target, format);
        }
    }

    private List<Digest> imageLayers(Digest id) throws IOException {
        return digests(Records.fromJson(Files.readAllBytes(layout.imageRecord(id)), Records.Image.class,
                "image record " + id.shortHex()).layers());
    }

    // ---- history, rm, gc, df ------------------------------------------------------------------------

    /** One line of {@code image history}, newest first. layer is null for an empty_layer step. */
    public record HistoryEntry(Digest layer, long size, String created, String createdBy, String comment) {
    }

    /** The config's history, each step that made a layer matched with that layer (image-spec config.md). */
    public List<HistoryEntry> history(String ref) throws IOException {
        Digest id = resolveImage(ref);
        List<Digest> layers = imageLayers(id);
        com.google.gson.JsonObject config = com.google.gson.JsonParser.parseString(
                new String(imageConfig(id), StandardCharsets.UTF_8)).getAsJsonObject();
        List<HistoryEntry> out = new ArrayList<>();
        int next = 0;
        com.google.gson.JsonArray history = config.has("history") && config.get("history").isJsonArray()
                ? config.getAsJsonArray("history") : new com.google.gson.JsonArray();
        int described = 0;
        for (com.google.gson.JsonElement el : history) {
            if (!(el.getAsJsonObject().has("empty_layer") && el.getAsJsonObject().get("empty_layer").getAsBoolean())) {
                described++;
            }
        }
        // fewer entries than layers: the entries describe the top layers; the bottom ones have none
        while (next < layers.size() - described) {
            Digest layer = layers.get(next++);
            out.add(new HistoryEntry(layer, layer(layer).size(), null, null, null));
        }
        if (!history.isEmpty()) {
            for (com.google.gson.JsonElement el : history) {
                com.google.gson.JsonObject h = el.getAsJsonObject();
                boolean empty = h.has("empty_layer") && h.get("empty_layer").getAsBoolean();
                Digest layer = null;
                long size = 0;
                if (!empty && next < layers.size()) {
                    layer = layers.get(next++);
                    size = layer(layer).size();
                }
                out.add(new HistoryEntry(layer, size, str(h, "created"), str(h, "created_by"), str(h, "comment")));
            }
        }
        while (next < layers.size()) { // layers no history entry describes
            Digest layer = layers.get(next++);
            out.add(new HistoryEntry(layer, layer(layer).size(), null, null, null));
        }
        Collections.reverse(out);
        return out;
    }

    private static String str(com.google.gson.JsonObject o, String k) {
        return o.has(k) && o.get(k).isJsonPrimitive() ? o.get(k).getAsString() : null;
    }

    /**
     * Removes an image name, or an image. A name of an image that has other names is only untagged (as
     * docker rmi does); otherwise the image goes with all its names, refused while a container uses it.
     * Its layers stay until {@link #gc}. Returns what was done: "untagged NAME" or "deleted ID".
     */
    public String removeImage(String ref) throws IOException {
        Digest id = resolveImage(ref);
        try (Staging staging = Staging.create(layout.tmp());
             StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
            TreeMap<String, String> tags = readTags();
            long names = tags.values().stream().filter(v -> v.equals(id.toString())).count();
            if (tags.containsKey(ref) && names > 1) {
                tags.remove(ref);
                AtomicFiles.write(layout.tags(), Records.gson().toJson(tags).getBytes(StandardCharsets.UTF_8));
                return "untagged " + ref;
            }
            for (String c : containerNames()) {
                if (container(c).image().equals(id)) {
                    throw new StoreException(StoreException.Kind.EXISTS, "image " + id.shortHex()
                            + " is used by container " + c + ": remove the container first");
                }
            }
            tags.values().removeIf(v -> v.equals(id.toString()));
            AtomicFiles.write(layout.tags(), Records.gson().toJson(tags).getBytes(StandardCharsets.UTF_8));
            Files.move(layout.imageDir(id), staging.dir().resolve("doomed"),
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(layout.images());
            return "deleted " + id;
        }
    }

    /** What gc removed. */
    public record GcResult(List<Digest> removedLayers, long bytes) {
    }

    /**
     * Removes the layers that no image and no container reaches. Reachability is computed now from the
     * image and container records (mark), never kept as counters; unreached layer directories are
     * renamed out of sight under the locks and deleted after (sweep). Holding gc.lock exclusive, it
     * waits for imports, commits and creates in progress, whose new layers are not referenced yet.
     */
    public GcResult gc() throws IOException {
        List<Digest> removed = new ArrayList<>();
        long bytes = 0;
        try (StoreLock noAdding = StoreLock.exclusive(layout.gcLockFile());
             Staging staging = Staging.create(layout.tmp())) {
            try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
                java.util.Set<Digest> reachable = new java.util.HashSet<>();
                for (Digest image : imageIds()) {
                    reachable.addAll(imageLayers(image));
                }
                for (String c : containerNames()) {
                    reachable.addAll(container(c).layers());
                }
                for (Digest l : hexNames(layout.layers())) {
                    if (!reachable.contains(l)) {
                        bytes += diskUsage(layout.layerDir(l));
                        Files.move(layout.layerDir(l), staging.dir().resolve(l.hex()),
                                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                        removed.add(l);
                    }
                }
                AtomicFiles.syncDirectory(layout.layers());
            }
            Staging.sweep(layout.tmp());
        }
        return new GcResult(removed, bytes);
    }

    /** Space per layer: on disk (diff and blob), and how many images use it. */
    public record LayerUsage(Digest chainId, long size, long diskBytes, int images) {
    }

    /** Space per image: all its layers, the part shared with other images, the part only it uses. */
    public record ImageUsage(Digest id, List<String> tags, long size, long shared, long unique, int containers) {
    }

    public record ContainerUsage(String name, Digest image, long upperBytes) {
    }

    public record Usage(List<ImageUsage> images, List<LayerUsage> layers, List<ContainerUsage> containers) {
    }

    /** {@code df}: disk usage, like {@code docker system df -v}. Layer sizes are measured on disk. */
    public Usage df() throws IOException {
        List<ImageInfo> images = images();
        List<ContainerInfo> containers = containers();
        Map<Digest, Integer> users = new java.util.HashMap<>();
        for (ImageInfo i : images) {
            for (Digest l : i.layers()) {
                users.merge(l, 1, Integer::sum);
            }
        }
        Map<Digest, Long> disk = new java.util.HashMap<>();
        List<LayerUsage> layers = new ArrayList<>();
        for (LayerInfo l : layers()) {
            long d = diskUsage(layout.layerDir(l.chainId()));
            disk.put(l.chainId(), d);
            layers.add(new LayerUsage(l.chainId(), l.size(), d, users.getOrDefault(l.chainId(), 0)));
        }
        List<ImageUsage> out = new ArrayList<>();
        for (ImageInfo i : images) {
            long size = 0;
            long shared = 0;
            for (Digest l : i.layers()) {
                long d = disk.getOrDefault(l, 0L);
                size += d;
                if (users.getOrDefault(l, 0) > 1) {
                    shared += d;
                }
            }
            int n = (int) containers.stream().filter(c -> c.image().equals(i.id())).count();
            out.add(new ImageUsage(i.id(), i.tags(), size, shared, size - shared, n));
        }
        List<ContainerUsage> cs = new ArrayList<>();
        for (ContainerInfo c : containers) {
            cs.add(new ContainerUsage(c.name(), c.image(), diskUsage(layout.containerUpper(c.name()))));
        }
        return new Usage(out, layers, cs);
    }

    /** Bytes of the regular files under dir (each hard-linked file once), not following links. */
    private static long diskUsage(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        java.util.Set<Object> seen = new java.util.HashSet<>();
        long[] total = {0};
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
                if (a.isRegularFile() && (a.fileKey() == null || seen.add(a.fileKey()))) {
                    total[0] += a.size();
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }

    private List<String> containerNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.containers())) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        }
        Collections.sort(names);
        return names;
    }

    /** Reports the bytes read so far to an {@link ImportProgress}. */
    static final class Counted extends java.io.FilterInputStream {
        private final ImportProgress progress;
        private long done;

        Counted(InputStream in, ImportProgress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                progress.advance(++done);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                done += n;
                progress.advance(done);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = in.skip(n);
            if (s > 0) {
                done += s;
                progress.advance(done);
            }
            return s;
        }
    }

    /** Copies what is read to a file, and the rest of the stream when closed, so the file is the whole blob. */
    private static final class Tee extends java.io.FilterInputStream {
        private final java.io.OutputStream copy;

        Tee(InputStream in, java.io.OutputStream copy) {
            super(in);
            this.copy = new java.io.BufferedOutputStream(copy, 1 << 16);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                copy.write(b);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                copy.write(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            return super.skip(0) + read(new byte[(int) Math.min(n, 65536)], 0, (int) Math.min(n, 65536));
        }

        @Override
        public void close() throws IOException {
            try (copy) {
                in.transferTo(copy);
            } finally {
                in.close();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static List<Digest> hexNames(Path dir) throws IOException {
        List<Digest> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Digest.isHex(n)) {
                    out.add(Digest.ofHex(n));
                }
            }
        }
        out.sort((a, b) -> a.hex().compareTo(b.hex()));
        return out;
    }

    private static List<String> strings(List<Digest> ds) {
        List<String> out = new ArrayList<>();
        for (Digest d : ds) {
            out.add(d.toString());
        }
        return out;
    }

    private static List<Digest> digests(List<String> ss) throws StoreException {
        List<Digest> out = new ArrayList<>();
        for (String s : ss) {
            try {
                out.add(Digest.parse(s));
            } catch (IllegalArgumentException e) {
                throw new StoreException(StoreException.Kind.BAD_CONTENT, "corrupt record: " + e.getMessage());
            }
        }
        return out;
    }
}
