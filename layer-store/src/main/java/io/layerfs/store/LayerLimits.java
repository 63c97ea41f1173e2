package io.layerfs.store;

/**
 * The bounds a layer tar must stay within, so that a hostile layer costs a bounded amount of disk, memory
 * and time before it is refused (issue 6, promise 6). {@link LayerApplier} enforces each one while it
 * streams the layer and refuses the first entry that crosses it with a {@link LayerFormatException};
 * a value N is allowed, N+1 is not.
 *
 * @param maxUncompressedBytes the uncompressed tar stream, end blocks included (decompression bombs)
 * @param maxEntries           tar entries (files, directories, links, whiteouts...) in one layer
 * @param maxPathDepth         components of one entry name, e.g. {@code a/b/c} has 3
 * @param maxPathBytes         bytes (UTF-8) of one normalized entry name, hard-link or symlink target
 * @param maxHeaderBytes       bytes read for the headers of one entry: its 512-byte header blocks, PAX
 *                             records, GNU long names and sparse maps, which the tar reader holds in memory
 * @param maxSparseRealBytes   the real (expanded, holes included) sizes of the layer's sparse files
 *                             together: a few bytes of tar can describe a 1 TiB file
 * @param maxZstdWindowLog     the largest zstd window a frame may ask for, as log2 of its bytes: the
 *                             decoder allocates that window up front
 */
public record LayerLimits(long maxUncompressedBytes, long maxEntries, int maxPathDepth, int maxPathBytes,
                          int maxHeaderBytes, long maxSparseRealBytes, int maxZstdWindowLog) {
    /** 64 GiB: larger than any layer seen in practice, small enough to stop a bomb before the disk fills. */
    public static final long DEFAULT_MAX_UNCOMPRESSED_BYTES = 64L << 30;
    /** One million entries: more than real layers hold, few enough to refuse a flood before it costs minutes. */
    public static final long DEFAULT_MAX_ENTRIES = 1_000_000;
    /** 256 components: a name this deep already needs most of PATH_MAX with one-letter names. */
    public static final int DEFAULT_MAX_PATH_DEPTH = 256;
    /** PATH_MAX - 1: a longer name cannot be handed to a path-based system call (or FUSE) at all. */
    public static final int DEFAULT_MAX_PATH_BYTES = 4095;
    /** 1 MiB, as Go's archive/tar (and so containerd and Docker) allows for PAX records and long names. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 1 << 20;
    /** 2^27 = 128 MiB, zstd's own default decoder limit; frames made with {@code zstd --long=31} exceed it. */
    public static final int DEFAULT_MAX_ZSTD_WINDOW_LOG = 27;

    /** The defaults above; the sparse limit equals the uncompressed one. */
    public static final LayerLimits DEFAULTS = new LayerLimits(DEFAULT_MAX_UNCOMPRESSED_BYTES, DEFAULT_MAX_ENTRIES,
            DEFAULT_MAX_PATH_DEPTH, DEFAULT_MAX_PATH_BYTES, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_UNCOMPRESSED_BYTES,
            DEFAULT_MAX_ZSTD_WINDOW_LOG);

    public LayerLimits {
        if (maxUncompressedBytes < 1 || maxEntries < 1 || maxPathDepth < 1 || maxPathBytes < 1
                || maxHeaderBytes < 512 || maxSparseRealBytes < 0) {
            throw new IllegalArgumentException("layer limits must be positive (headers at least 512 bytes)");
        }
        if (maxZstdWindowLog < 10 || maxZstdWindowLog > 31) {
            throw new IllegalArgumentException("a zstd window log is between 10 and 31, not " + maxZstdWindowLog);
        }
    }

    /** The defaults with another layer size limit, which also bounds the sparse files' real size. */
    public static LayerLimits withMaxLayerBytes(long bytes) {
        return DEFAULTS.maxLayerBytes(bytes);
    }

    /**
     * For a layer layerfs wrote itself from a container's upper ({@code commit}): no policy bounds, only
     * the ones the kernel has (path length) and the reader's memory (headers).
     */
    static LayerLimits ownLayer() {
        return new LayerLimits(Long.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE, DEFAULT_MAX_PATH_BYTES,
                DEFAULT_MAX_HEADER_BYTES, Long.MAX_VALUE, DEFAULT_MAX_ZSTD_WINDOW_LOG);
    }

    public LayerLimits maxLayerBytes(long bytes) {
        return new LayerLimits(bytes, maxEntries, maxPathDepth, maxPathBytes, maxHeaderBytes, bytes, maxZstdWindowLog);
    }

    public LayerLimits maxEntries(long n) {
        return new LayerLimits(maxUncompressedBytes, n, maxPathDepth, maxPathBytes, maxHeaderBytes,
                maxSparseRealBytes, maxZstdWindowLog);
    }

    public LayerLimits maxPathDepth(int n) {
        return new LayerLimits(maxUncompressedBytes, maxEntries, n, maxPathBytes, maxHeaderBytes,
                maxSparseRealBytes, maxZstdWindowLog);
    }

    public LayerLimits maxPathBytes(int n) {
        return new LayerLimits(maxUncompressedBytes, maxEntries, maxPathDepth, n, maxHeaderBytes,
                maxSparseRealBytes, maxZstdWindowLog);
    }

    public LayerLimits maxHeaderBytes(int n) {
        return new LayerLimits(maxUncompressedBytes, maxEntries, maxPathDepth, maxPathBytes, n,
                maxSparseRealBytes, maxZstdWindowLog);
    }

    public LayerLimits maxSparseRealBytes(long n) {
        return new LayerLimits(maxUncompressedBytes, maxEntries, maxPathDepth, maxPathBytes, maxHeaderBytes, n,
                maxZstdWindowLog);
    }

    public LayerLimits maxZstdWindowLog(int n) {
        return new LayerLimits(maxUncompressedBytes, maxEntries, maxPathDepth, maxPathBytes, maxHeaderBytes,
                maxSparseRealBytes, n);
    }
}
