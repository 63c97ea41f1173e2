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
    /** Default limit on one layer's uncompressed size: 64 GiB. */
    public static final long DEFAULT_MAX_LAYER_BYTES = 64L << 30;

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

    /** Opens (creating, mode 0700) the store at root and sweeps what interrupted commands left. */
    public static LayerStore open(Path root) throws IOException {
        StoreLayout layout = new StoreLayout(root);
        if (!Files.isDirectory(layout.root())) {
            Files.createDirectories(layout.root());
            Files.setPosixFilePermissions(layout.root(), PosixFilePermissions.fromString("rwx------"));
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
        if (!Files.exists(source)) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no such file or directory: " + source);
        }
        if (tag != null) {
            checkTag(tag);
        }
        try (Staging unpacked = Files.isDirectory(source) ? null : Staging.create(layout.tmp())) {
            Path dir = source;
            if (unpacked != null) {
                ImageImporter.unpackArchive(source, unpacked.dir());
                dir = unpacked.dir();
            }
            ImageImporter.Image image = ImageImporter.read(dir);
            List<Digest> chain = ChainIds.of(image.diffIds());
            int created = 0;
            for (int i = 0; i < chain.size(); i++) {
                if (storeLayer(image.layers().get(i), chain.get(i), i == 0 ? null : chain.get(i - 1), maxLayerBytes)) {
                    created++;
                }
            }
            storeImage(image, chain, source);
            String name = tag != null ? tag : image.refName();
            if (name != null) {
                checkTag(name);
                tag(name, image.id());
            }
            return new ImportResult(image.id(), name, chain, created, image.format());
        }
    }

    private boolean storeLayer(ImageImporter.LayerBlob blob, Digest chainId, Digest parent, long max)
            throws IOException {
        if (Files.isDirectory(layout.layerDir(chainId))) {
            return false;
        }
        try (Staging staging = Staging.create(layout.tmp())) {
            Path layerDir = staging.dir().resolve("layer");
            Path diff = layerDir.resolve(StoreLayout.DIFF);
            Files.createDirectories(diff);
            LayerApplier.Result r;
            try (InputStream in = Files.newInputStream(blob.blob())) {
                r = LayerApplier.withLimit(max).apply(in, diff);
            } catch (LayerFormatException e) {
                throw new LayerFormatException("layer " + blob.diffId().shortHex() + ": " + e.getMessage(), e);
            }
            if (blob.blobDigest() != null && !r.compressedDigest().equals(blob.blobDigest())) {
                throw new LayerFormatException("layer blob " + blob.blobDigest() + " does not match its digest"
                        + " (sha256 is " + r.compressedDigest() + ")");
            }
            if (!r.diffId().equals(blob.diffId())) {
                throw new LayerFormatException("layer " + blob.diffId() + " does not match the config's diff_id"
                        + " (its uncompressed sha256 is " + r.diffId() + ")");
            }
            AtomicFiles.writeSynced(layerDir.resolve(StoreLayout.LAYER_JSON), Records.toJson(new Records.Layer(
                    chainId.toString(), r.diffId().toString(), parent == null ? null : parent.toString(),
                    r.uncompressedSize(), Instant.now().toString())));
            AtomicFiles.syncDirectory(diff);
            AtomicFiles.syncDirectory(layerDir);
            return staging.publish(layerDir, layout.layerDir(chainId));
        }
    }

    private void storeImage(ImageImporter.Image image, List<Digest> chain, Path source) throws IOException {
        if (Files.isDirectory(layout.imageDir(image.id()))) {
            return;
        }
        try (Staging staging = Staging.create(layout.tmp())) {
            Path dir = staging.dir().resolve("image");
            Files.createDirectories(dir);
            AtomicFiles.writeSynced(dir.resolve(StoreLayout.CONFIG_JSON), image.config());
            AtomicFiles.writeSynced(dir.resolve(StoreLayout.IMAGE_JSON), Records.toJson(new Records.Image(
                    image.id().toString(), strings(chain), strings(image.diffIds()), Instant.now().toString(),
                    source.toAbsolutePath().toString())));
            AtomicFiles.syncDirectory(dir);
            staging.publish(dir, layout.imageDir(image.id()));
        }
    }

    /** Points tag at image, replacing what it named before. */
    public void tag(String tag, Digest image) throws IOException {
        checkTag(tag);
        try (StoreLock lock = StoreLock.exclusive(layout.lockFile())) {
            TreeMap<String, String> tags = readTags();
            tags.put(tag, image.toString());
            AtomicFiles.write(layout.tags(), Records.gson().toJson(tags).getBytes(StandardCharsets.UTF_8));
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

    public List<ImageInfo> images() throws IOException {
        Map<String, Digest> tags = tags();
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
        try (Staging staging = Staging.create(layout.tmp())) {
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

    public List<ContainerInfo> containers() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.containers())) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        }
        Collections.sort(names);
        List<ContainerInfo> out = new ArrayList<>();
        for (String n : names) {
            out.add(container(n));
        }
        return out;
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
