package io.layerfs.store;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every path of the on-disk store, and nothing else: no other class joins names onto the root. Names
 * come only from validated values ({@link Digest}, {@link #checkContainerName}), so no manifest or
 * command line can make the store write outside its root.
 *
 * <pre>
 * ROOT/                          mode 0700
 *   lock                         flock: shared to read metadata, exclusive to change it
 *   gc.lock                      flock: shared while content is added (import, commit, create), exclusive for gc
 *   tmp/                         staging; anything here is swept at start unless its owner holds ID.lock
 *     ID/  ID.lock
 *   layers/CHAINHEX/             one per chain ID, whatever number of images share it
 *     diff/                      the applied layer, in overlay format (0/0 whiteouts, trusted.overlay.opaque)
 *     layer.json                 chain ID, diffID, parent chain ID, size, blob digest and media type
 *     blob                       the layer tar as imported or committed (plain, gzip or zstd), for export
 *   images/IMAGEHEX/             IMAGEHEX = sha256 of the image config (the image ID)
 *     config.json                the OCI image config, byte for byte as imported
 *     image.json                 layer chain IDs (bottom first), created, source
 *   tags.json                    {"NAME": "sha256:IMAGEHEX", ...}
 *   containers/NAME/
 *     container.json             image ID, layer chain IDs, created
 *     upper/  work/              the writable layer and overlay's workdir
 * </pre>
 */
public final class StoreLayout {
    /** The default root, as /var/lib/containers is podman's. */
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/layerfs");
    public static final String ROOT_ENV = "LAYERFS_ROOT";

    private static final Pattern CONTAINER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private final Path root;

    public StoreLayout(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** {@code --root} if given, else {@code $LAYERFS_ROOT} if set and not empty, else /var/lib/layerfs. */
    public static Path chooseRoot(String option, Map<String, String> env, Path cwd) {
        if (option != null && !option.isEmpty()) {
            return cwd.resolve(option).normalize();
        }
        String fromEnv = env.get(ROOT_ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return cwd.resolve(fromEnv).normalize();
        }
        return DEFAULT_ROOT;
    }

    /** Container names become directory names: letters, digits, {@code _ . -}, not starting with a dot. */
    public static String checkContainerName(String name) throws StoreException {
        if (name == null || !CONTAINER_NAME.matcher(name).matches()) {
            throw new StoreException(StoreException.Kind.INVALID, "bad container name '" + name
                    + "': use letters, digits, '_', '.', '-' (up to 128, starting with a letter or digit)");
        }
        return name;
    }

    public Path root() {
        return root;
    }

    public Path lockFile() {
        return root.resolve("lock");
    }

    /** Held shared by every command that adds content, exclusive by gc: gc never sees half an import. */
    public Path gcLockFile() {
        return root.resolve("gc.lock");
    }

    public Path tmp() {
        return root.resolve("tmp");
    }

    public Path layers() {
        return root.resolve("layers");
    }

    public Path layerDir(Digest chainId) {
        return layers().resolve(chainId.hex());
    }

    public Path layerDiff(Digest chainId) {
        return layerDir(chainId).resolve(DIFF);
    }

    public Path layerBlob(Digest chainId) {
        return layerDir(chainId).resolve(BLOB);
    }

    public Path layerRecord(Digest chainId) {
        return layerDir(chainId).resolve(LAYER_JSON);
    }

    public Path images() {
        return root.resolve("images");
    }

    public Path imageDir(Digest imageId) {
        return images().resolve(imageId.hex());
    }

    public Path imageConfig(Digest imageId) {
        return imageDir(imageId).resolve(CONFIG_JSON);
    }

    public Path imageRecord(Digest imageId) {
        return imageDir(imageId).resolve(IMAGE_JSON);
    }

    public Path tags() {
        return root.resolve("tags.json");
    }

    public Path containers() {
        return root.resolve("containers");
    }

    public Path containerDir(String name) throws StoreException {
        return containers().resolve(checkContainerName(name));
    }

    public Path containerRecord(String name) throws StoreException {
        return containerDir(name).resolve(CONTAINER_JSON);
    }

    public Path containerUpper(String name) throws StoreException {
        return containerDir(name).resolve(UPPER);
    }

    public Path containerWork(String name) throws StoreException {
        return containerDir(name).resolve(WORK);
    }

    // Names inside a staged directory, which is built in tmp/ and then renamed to its final place.
    static final String DIFF = "diff";
    static final String LAYER_JSON = "layer.json";
    static final String BLOB = "blob";
    static final String CONFIG_JSON = "config.json";
    static final String IMAGE_JSON = "image.json";
    static final String CONTAINER_JSON = "container.json";
    static final String UPPER = "upper";
    static final String WORK = "work";
}
