package io.layerfs.store;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Applies one OCI layer tar (image-spec layer.md) to an empty directory, in the overlay on-disk format
 * that the fs-driver and kernel overlayfs read: {@code .wh.NAME} becomes a 0/0 character device NAME,
 * {@code .wh..wh..opq} becomes {@code trusted.overlay.opaque=y} on its directory (overlayfs.rst,
 * "whiteouts and opaque directories"). Since the layer is written into its own empty directory and
 * never merged with its parent, the opaque marker means the same wherever it sits among its siblings.
 *
 * <p>One pass over the stream: the compressed digest and the diffID (sha256 of the uncompressed tar,
 * including its end blocks and padding) are computed while the entries are written, so memory stays
 * flat whatever the layer's size.
 *
 * <p>Nothing is fsynced here, file by file: the caller makes the finished layer durable at once
 * (syncfs) before it publishes it, which is what makes it crash-safe.
 *
 * <p>Every write is made relative to a directory descriptor opened component by component with
 * O_NOFOLLOW, so a symlink in the layer ({@code a -> /etc}) can never redirect a later entry
 * ({@code a/passwd}) outside the target. Refused, with nothing written outside the target: absolute
 * names and {@code ..}, paths through symlinks or non-directories, hard links to names outside the
 * layer or not yet extracted, bare {@code .wh.} and other {@code .wh..wh.} names, duplicate names,
 * forged overlay markers (0/0 character devices, trusted.overlay.*, user.overlay.*,
 * user.fuseoverlayfs.* xattrs), and layers beyond a {@link LayerLimits} bound.
 *
 * <p>No call follows a symlink or names a path from the host's root: creation (openat O_CREAT|O_EXCL|
 * O_NOFOLLOW, mkdirat, mknodat, symlinkat, linkat without AT_SYMLINK_FOLLOW), ownership (fchownat
 * AT_SYMLINK_NOFOLLOW), mode (fchmodat AT_SYMLINK_NOFOLLOW), times (utimensat AT_SYMLINK_NOFOLLOW) and
 * xattrs (lsetxattr on {@code /proc/self/fd/PARENT/NAME}) all name one component below a parent opened
 * from the root's descriptor. Nothing is ever deleted or renamed here. A failing call whose cause is the
 * layer's content (a name too long, an unsupported xattr, ...) refuses the layer; one whose cause is the
 * host (no space, I/O error) is an ordinary IOException.
 */
public final class LayerApplier {
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE_MARKER = ".wh..wh..opq";
    static final String OPAQUE_XATTR = "trusted.overlay.opaque";
    private static final List<String> RESERVED_XATTR_PREFIXES =
            List.of("trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.");
    private static final String SCHILY_XATTR = "SCHILY.xattr.";
    private static final String LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";

    /** What applying a layer produced. mediaType: the OCI layer media type of the compression found. */
    public record Result(Digest diffId, Digest compressedDigest, long uncompressedSize, long entries,
                         String mediaType) {
    }

    /** Linux's NAME_MAX: the longest name of one directory entry, in bytes. */
    static final int NAME_MAX = 255;
    /** The largest uid or gid: (uid_t) -1 means "leave unchanged" to chown. */
    private static final long MAX_ID = 0xFFFFFFFEL;

    private final Sys sys = Sys.get();
    private final LayerLimits limits;
    private final boolean preserveOwners;

    /**
     * @param maxUncompressedBytes the largest uncompressed tar accepted (against decompression bombs);
     *                             the other limits are the defaults
     * @param preserveOwners       chown to the tar's uid/gid; only root may, so false when not root
     */
    public LayerApplier(long maxUncompressedBytes, boolean preserveOwners) {
        this(LayerLimits.withMaxLayerBytes(maxUncompressedBytes), preserveOwners);
    }

    public LayerApplier(LayerLimits limits, boolean preserveOwners) {
        this.limits = limits;
        this.preserveOwners = preserveOwners;
    }

    /** An applier with the given limit that keeps owners when running as root. */
    public static LayerApplier withLimit(long maxUncompressedBytes) {
        return withLimits(LayerLimits.withMaxLayerBytes(maxUncompressedBytes));
    }

    /** An applier with the given limits that keeps owners when running as root. */
    public static LayerApplier withLimits(LayerLimits limits) {
        return new LayerApplier(limits, Sys.get().geteuid() == 0);
    }

    /**
     * Reads the (plain, gzip or zstd) layer stream to its end and writes the layer into target, an
     * existing empty directory. On an exception the target holds a partial layer: the caller stages it
     * and throws it away.
     */
    public Result apply(InputStream layer, Path target) throws IOException {
        MessageDigest compressedSha = Digest.newSha256();
        MessageDigest diffSha = Digest.newSha256();
        BufferedInputStream compressed = new BufferedInputStream(new DigestInputStream(layer, compressedSha), 65536);
        Compression compression = Compression.detect(compressed);
        long entries;
        int root;
        try {
            root = sys.openat(Sys.AT_FDCWD, target.toString(), Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_NOFOLLOW
                    | Sys.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new IOException("cannot open " + target + ": " + e.getMessage(), e);
        }
        Limited limited = null;
        InputStream plain = null;
        try {
            plain = compression.open(compressed, limits.maxZstdWindowLog());
            limited = new Limited(plain, limits.maxUncompressedBytes());
            // an uncompressed layer's diffID is its blob digest: the same bytes need hashing only once
            InputStream hashed = compression == Compression.NONE ? limited : new DigestInputStream(limited, diffSha);
            HeaderBudget budget = new HeaderBudget(hashed, limits.maxHeaderBytes());
            PaxRecords.Recorder raw = new PaxRecords.Recorder(budget);
            entries = new Extraction(root).run(new GuardedTar(raw, budget), raw);
            // the diffID covers the whole tar stream, end-of-archive blocks and record padding included
            try {
                hashed.transferTo(OutputStream.nullOutputStream());
            } catch (RuntimeException e) {
                throw unreadable(e);
            }
            compressed.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw refusal(e, compression);
        } finally {
            sys.close(root);
            if (plain != null) {
                plain.close(); // the zstd decoder's native memory; the caller's stream stays open
            }
        }
        Digest compressedDigest = Digest.of(compressedSha.digest());
        return new Result(compression == Compression.NONE ? compressedDigest : Digest.of(diffSha.digest()),
                compressedDigest, limited.count, entries, compression.mediaType);
    }

    /**
     * An unchecked exception from the tar reader or a decompressor, which throw some on malformed input
     * (an unparsable number, an impossible offset). Only their calls are wrapped: one from the
     * applier's own code is a bug and stays what it is.
     */
    static LayerFormatException unreadable(RuntimeException e) {
        return new LayerFormatException("the layer is not a readable tar: " + e, e);
    }

    /**
     * What an IOException from reading or applying the layer means: our own refusal, possibly wrapped by
     * the tar reader, as it is; a host failure (no space, I/O error) as it is; anything else the
     * decompressor or the tar reader said, a refusal of the layer.
     */
    private IOException refusal(IOException e, Compression compression) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LayerFormatException lfe) {
                return lfe;
            }
        }
        if (e.getCause() instanceof SysException) {
            return e;
        }
        if (e instanceof EOFException) {
            return new LayerFormatException("the layer is truncated (" + compression.label + "): " + e.getMessage(), e);
        }
        String m = String.valueOf(e.getMessage());
        if (compression == Compression.ZSTD && m.contains("too much memory")) {
            return new LayerFormatException("a zstd frame of the layer asks for a window larger than the limit of 2^"
                    + limits.maxZstdWindowLog() + " bytes", e);
        }
        return new LayerFormatException("the layer is not a readable " + compression.label + " tar: " + m, e);
    }

    /** The compressions OCI layers use (image-spec layer.md media types), told apart by magic bytes. */
    enum Compression {
        NONE("uncompressed", "application/vnd.oci.image.layer.v1.tar"),
        GZIP("gzip", "application/vnd.oci.image.layer.v1.tar+gzip"),
        ZSTD("zstd", "application/vnd.oci.image.layer.v1.tar+zstd");

        final String label;
        final String mediaType;

        Compression(String label, String mediaType) {
            this.label = label;
            this.mediaType = mediaType;
        }

        static Compression detect(BufferedInputStream in) throws IOException {
            in.mark(4);
            byte[] magic = in.readNBytes(4);
            in.reset();
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                return GZIP;
            }
            if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                    && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
                return ZSTD;
            }
            return NONE;
        }

        /**
         * The decompressed stream; a zstd frame may ask for a window of at most 2^windowLog bytes. Closing
         * it frees the decoder and leaves in open.
         */
        InputStream open(InputStream source, int windowLog) throws IOException {
            InputStream in = new FilterInputStream(source) {
                @Override
                public void close() {
                }
            };
            try {
                switch (this) {
                    case GZIP:
                        return new GzipCompressorInputStream(in, true);
                    case ZSTD:
                        return new ZstdInputStreamNoFinalizer(in).setLongMax(windowLog);
                    default:
                        return in;
                }
            } catch (IOException e) {
                throw new LayerFormatException("corrupt " + label + " layer: " + e.getMessage(), e);
            }
        }
    }

    /** Counts the uncompressed bytes and stops a decompression bomb at the limit. */
    private static final class Limited extends FilterInputStream {
        private final long limit;
        long count;

        Limited(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(long n) throws LayerFormatException {
            count += n;
            if (count > limit) {
                throw new LayerFormatException("the layer is larger than the limit of " + limit
                        + " uncompressed bytes");
            }
        }
    }

    /**
     * Counts the bytes the tar reader consumes while it reads one entry's headers, and stops it at the
     * limit: commons-compress holds PAX records, GNU long names and sparse maps in memory, so a 100 MB
     * PAX record would otherwise be read whole before any check could see it. No mark/reset: a
     * re-read would be hashed twice into the diffID.
     */
    private static final class HeaderBudget extends FilterInputStream {
        private final int limit;
        private boolean counting;
        private long used;

        HeaderBudget(InputStream in, int limit) {
            super(in);
            this.limit = limit;
        }

        void start() {
            counting = true;
            used = 0;
        }

        void stop() {
            counting = false;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, counting ? (int) Math.min(len, limit - used + 1) : len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        /** By reading, so that what is skipped is counted and hashed below as well. */
        @Override
        public long skip(long n) throws IOException {
            if (n <= 0) {
                return 0;
            }
            int r = read(new byte[(int) Math.min(n, 8192)]);
            return Math.max(r, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        private void add(int n) throws LayerFormatException {
            if (counting) {
                used += n;
                if (used > limit) {
                    throw new LayerFormatException("the headers of one entry (PAX records, GNU long names, sparse "
                            + "map) are larger than the limit of " + limit + " bytes");
                }
            }
        }
    }

    /**
     * The tar reader, reading each entry's headers within the {@link HeaderBudget}. commons-compress
     * calls getNextEntry again from inside itself after a PAX header or GNU long name: those nested
     * calls belong to the same entry and share its budget.
     */
    private static final class GuardedTar extends TarArchiveInputStream {
        private final HeaderBudget budget;
        private int depth;

        /** Reads through in (which reads budget); the header budget is counted on budget. */
        GuardedTar(InputStream in, HeaderBudget budget) {
            super(in, StandardCharsets.UTF_8.name());
            this.budget = budget;
        }

        /**
         * Reads what is left of the current entry's data (a directory or link with a size, a file the
         * applier refused to read): that is data, not headers, so it is read outside the header budget
         * (the size limit still counts it) and before a caller starts looking at header bytes.
         */
        void skipUnreadData() throws IOException {
            if (getCurrentEntry() != null) {
                try {
                    transferTo(OutputStream.nullOutputStream());
                } catch (RuntimeException e) {
                    throw unreadable(e);
                }
            }
        }

        @Override
        public TarArchiveEntry getNextEntry() throws IOException {
            try {
                if (depth == 0) {
                    skipUnreadData();
                    budget.start();
                }
                depth++;
                try {
                    return super.getNextEntry();
                } finally {
                    if (--depth == 0) {
                        budget.stop();
                    }
                }
            } catch (RuntimeException e) {
                throw unreadable(e);
            }
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            try {
                return super.read(buf, off, len);
            } catch (RuntimeException e) {
                throw unreadable(e);
            }
        }
    }

    /** A tar entry's name, checked and split: no absolute path, no "..", no empty result but the root. */
    static List<String> parseName(String name) throws LayerFormatException {
        if (name.startsWith("/")) {
            throw new LayerFormatException("absolute path in layer: " + name);
        }
        if (name.indexOf('\0') >= 0) {
            throw new LayerFormatException("NUL in a layer path: " + name.replace('\0', '?'));
        }
        List<String> parts = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                throw new LayerFormatException("'..' in layer path: " + name);
            }
            if (c.length() > NAME_MAX / 3 && c.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
                throw new LayerFormatException("a name in a layer path is longer than " + NAME_MAX + " bytes: "
                        + (name.length() <= 200 ? name : name.substring(0, 200) + "..."));
            }
            parts.add(c);
        }
        return parts;
    }

    /** The state of one extraction: which names this layer wrote, and directories to finish last. */
    private final class Extraction {
        private final int root;
        /** Every name an entry of this layer made (files, dirs, whiteouts): a second entry is a duplicate. */
        private final Set<String> seen = new HashSet<>();
        /** Non-directories written by this layer: the only valid hard-link targets. */
        private final Set<String> linkable = new HashSet<>();
        /** Directory entries (and their xattrs) whose metadata is applied after all their children are written. */
        private final Map<String, Pending> directories = new LinkedHashMap<>();
        private final byte[] buffer = new byte[65536];
        /** The real sizes of the sparse files written so far. */
        private long sparseBytes;

        Extraction(int root) {
            this.root = root;
        }

        long run(GuardedTar tar, PaxRecords.Recorder raw) throws IOException {
            long n = 0;
            while (true) {
                // data of the previous entry that nobody read is skipped before the recording starts,
                // so the recorder sees headers only
                tar.skipUnreadData();
                raw.begin();
                TarArchiveEntry e = tar.getNextEntry();
                Map<String, byte[]> rawPax = raw.end();
                if (e == null) {
                    break;
                }
                if (++n > limits.maxEntries()) {
                    throw new LayerFormatException("the layer has more than the limit of " + limits.maxEntries()
                            + " entries");
                }
                try {
                    entry(e, tar, xattrs(e, rawPax));
                } catch (SysException ex) {
                    throw failed("cannot write " + shorten(e.getName()), ex);
                }
            }
            try {
                finishDirectories();
            } catch (SysException ex) {
                throw failed("cannot set directory metadata", ex);
            }
            return n;
        }

        private void entry(TarArchiveEntry e, InputStream data, Map<String, byte[]> xattrs)
                throws IOException, SysException {
            List<String> parts = parseName(e.getName());
            String key = String.join("/", parts);
            checkPath(key, parts.size(), e.getName());
            checkOwner(e);
            if (parts.isEmpty()) {
                if (!e.isDirectory()) {
                    throw new LayerFormatException("the layer's root is not a directory: " + e.getName());
                }
                remember(key, e.getName());
                directories.put(key, new Pending(e, xattrs));
                return;
            }
            String base = parts.get(parts.size() - 1);
            List<String> parentParts = parts.subList(0, parts.size() - 1);
            if (base.startsWith(WHITEOUT_PREFIX)) {
                whiteout(e, parentParts, base);
                return;
            }
            remember(key, e.getName());
            checkXattrs(e, xattrs);
            int parent = openParent(parentParts, e.getName());
            try {
                if (e.isDirectory()) {
                    Stat st = sys.lstatOrNull(parent, base);
                    if (st == null) {
                        sys.mkdirat(parent, base, 0700);
                    } else if (!st.isDirectory()) {
                        throw new LayerFormatException("duplicate entry in layer: " + e.getName());
                    }
                    directories.put(key, new Pending(e, xattrs));
                } else if (e.isSymbolicLink()) {
                    String target = e.getLinkName();
                    if (target.isEmpty() || target.indexOf('\0') >= 0
                            || target.getBytes(StandardCharsets.UTF_8).length > limits.maxPathBytes()) {
                        throw new LayerFormatException("symlink " + e.getName() + " has an empty target, a NUL in "
                                + "it or one longer than the limit of " + limits.maxPathBytes() + " bytes");
                    }
                    sys.symlinkat(target, parent, base);
                    metadata(parent, base, e, xattrs, true);
                    linkable.add(key);
                } else if (e.isLink()) {
                    hardLink(e, parent, base);
                    linkable.add(key);
                } else if (e.isCharacterDevice() || e.isBlockDevice()) {
                    if (e.isCharacterDevice() && e.getDevMajor() == 0 && e.getDevMinor() == 0) {
                        throw new LayerFormatException("0/0 character device in layer (a forged overlay whiteout): "
                                + e.getName());
                    }
                    int type = e.isCharacterDevice() ? Stat.S_IFCHR : Stat.S_IFBLK;
                    sys.mknodat(parent, base, type | 0600, makedev(e.getDevMajor(), e.getDevMinor()));
                    metadata(parent, base, e, xattrs, false);
                    linkable.add(key);
                } else if (e.isFIFO()) {
                    sys.mknodat(parent, base, Stat.S_IFIFO | 0600, 0);
                    metadata(parent, base, e, xattrs, false);
                    linkable.add(key);
                } else if (e.isFile()) {
                    regularFile(e, data, parent, base, xattrs);
                    linkable.add(key);
                } else {
                    throw new LayerFormatException("unsupported tar entry type '" + (char) linkFlag(e) + "': "
                            + e.getName());
                }
            } finally {
                sys.close(parent);
            }
        }

        private int linkFlag(TarArchiveEntry e) {
            return e.isGlobalPaxHeader() ? 'g' : e.isPaxHeader() ? 'x' : e.isSparse() ? 'S' : '?';
        }

        private void checkPath(String key, int depth, String name) throws LayerFormatException {
            if (depth > limits.maxPathDepth()) {
                throw new LayerFormatException("layer path deeper than the limit of " + limits.maxPathDepth()
                        + " components: " + shorten(name));
            }
            int bytes = key.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > limits.maxPathBytes()) {
                throw new LayerFormatException("layer path of " + bytes + " bytes, longer than the limit of "
                        + limits.maxPathBytes() + ": " + shorten(name));
            }
        }

        private void checkOwner(TarArchiveEntry e) throws LayerFormatException {
            long uid = e.getLongUserId();
            long gid = e.getLongGroupId();
            if (uid < 0 || uid > MAX_ID || gid < 0 || gid > MAX_ID) {
                throw new LayerFormatException("uid/gid out of range (" + uid + "/" + gid + ") on " + shorten(e.getName()));
            }
        }

        private void remember(String key, String name) throws LayerFormatException {
            if (!seen.add(key)) {
                throw new LayerFormatException("duplicate entry in layer: " + name);
            }
        }

        /** {@code .wh.NAME} and {@code .wh..wh..opq} (image-spec layer.md "Whiteouts"). */
        private void whiteout(TarArchiveEntry e, List<String> parentParts, String base)
                throws IOException, SysException {
            if (base.equals(OPAQUE_MARKER)) {
                remember(String.join("/", parentParts) + "/" + OPAQUE_MARKER, e.getName());
                int parent = openParent(parentParts, e.getName());
                try {
                    sys.lsetxattrAt(parent, ".", OPAQUE_XATTR, new byte[] {'y'}, 0);
                } finally {
                    sys.close(parent);
                }
                return;
            }
            String hidden = base.substring(WHITEOUT_PREFIX.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw new LayerFormatException("bad whiteout entry in layer: " + e.getName());
            }
            if (hidden.startsWith(WHITEOUT_PREFIX)) {
                // .wh..wh.plnk and friends are aufs internals, not part of the OCI format
                throw new LayerFormatException("unsupported whiteout metadata entry in layer: " + e.getName());
            }
            List<String> parts = new ArrayList<>(parentParts);
            parts.add(hidden);
            remember(String.join("/", parts), e.getName());
            int parent = openParent(parentParts, e.getName());
            try {
                sys.mknodat(parent, hidden, Stat.S_IFCHR, 0);
            } finally {
                sys.close(parent);
            }
        }

        private void hardLink(TarArchiveEntry e, int parent, String base) throws IOException, SysException {
            String linkName = e.getLinkName();
            List<String> target = parseName(linkName);
            String targetKey = String.join("/", target);
            checkPath(targetKey, target.size(), linkName);
            if (target.isEmpty() || !linkable.contains(targetKey)) {
                throw new LayerFormatException("hard link " + e.getName() + " -> " + linkName
                        + " names no file extracted before it in this layer");
            }
            int targetParent = openParent(target.subList(0, target.size() - 1), linkName);
            try {
                sys.linkat(targetParent, target.get(target.size() - 1), parent, base);
            } finally {
                sys.close(targetParent);
            }
        }

        private void regularFile(TarArchiveEntry e, InputStream data, int parent, String base,
                                 Map<String, byte[]> xattrs) throws IOException, SysException {
            boolean sparse = e.isSparse();
            if (sparse) {
                sparseBytes += e.getRealSize();
                if (e.getRealSize() < 0 || sparseBytes > limits.maxSparseRealBytes()) {
                    throw new LayerFormatException("sparse file " + shorten(e.getName()) + " of " + e.getRealSize()
                            + " bytes takes the layer's sparse files over the limit of "
                            + limits.maxSparseRealBytes() + " bytes");
                }
            } else if (e.getSize() > limits.maxUncompressedBytes()) {
                throw new LayerFormatException("file " + shorten(e.getName()) + " of " + e.getSize()
                        + " bytes is larger than the limit of " + limits.maxUncompressedBytes()
                        + " uncompressed bytes of a layer");
            }
            int fd = sys.openat(parent, base, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW
                    | Sys.O_CLOEXEC, 0600);
            try {
                long offset = 0;
                int n;
                while ((n = data.read(buffer)) > 0) {
                    // the holes of a sparse file stay holes: the reader hands them over as zeros
                    if (!(sparse && allZero(buffer, n))) {
                        int done = 0;
                        while (done < n) {
                            byte[] chunk = done == 0 ? buffer : java.util.Arrays.copyOfRange(buffer, done, n);
                            done += sys.pwrite(fd, chunk, n - done, offset + done);
                        }
                    }
                    offset += n;
                }
                if (offset != e.getRealSize()) {
                    throw new LayerFormatException("the layer is truncated in " + e.getName());
                }
                if (sparse) {
                    sys.ftruncate(fd, offset);
                }
                // no fsync here: the store syncs the layer's file system once before publishing it
            } finally {
                sys.close(fd);
            }
            metadata(parent, base, e, xattrs, false);
        }

        /** Opens parentParts below the root, each component without following symlinks; makes missing ones. */
        private int openParent(List<String> parentParts, String entryName) throws IOException, SysException {
            int fd = sys.openat(root, ".", Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0);
            try {
                for (String c : parentParts) {
                    int next;
                    try {
                        next = sys.openat(fd, c, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0);
                    } catch (SysException e) {
                        if (e.errno() == Errno.ENOENT) {
                            sys.mkdirat(fd, c, 0755);
                            next = sys.openat(fd, c, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0);
                        } else if (e.errno() == Errno.ENOTDIR || e.errno() == Errno.ELOOP) {
                            throw new LayerFormatException("layer entry " + entryName
                                    + " goes through a symlink or a non-directory (" + c + ")");
                        } else {
                            throw e;
                        }
                    }
                    sys.close(fd);
                    fd = next;
                }
                return fd;
            } catch (IOException | SysException | RuntimeException e) {
                sys.close(fd);
                throw e;
            }
        }

        private void checkXattrs(TarArchiveEntry e, Map<String, byte[]> xattrs) throws LayerFormatException {
            for (String name : xattrs.keySet()) {
                if (name.indexOf('\0') >= 0) {
                    // libc would cut the name at the NUL: what is checked must be what is set
                    throw new LayerFormatException("NUL in an xattr name on " + shorten(e.getName()));
                }
                for (String reserved : RESERVED_XATTR_PREFIXES) {
                    if (name.startsWith(reserved)) {
                        throw new LayerFormatException("forged overlay xattr " + name + " on " + e.getName());
                    }
                }
            }
        }

        /** Owner, mode, xattrs, then times (last, as the others would change ctime only). */
        private void metadata(int parent, String base, TarArchiveEntry e, Map<String, byte[]> xattrs,
                              boolean symlink) throws IOException, SysException {
            if (preserveOwners) {
                sys.lchownat(parent, base, (int) e.getLongUserId(), (int) e.getLongGroupId());
            }
            if (!symlink) {
                // after chown, which clears set-id bits
                sys.lchmodat(parent, base, e.getMode() & 07777);
            }
            for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
                try {
                    sys.lsetxattrAt(parent, base, x.getKey(), x.getValue(), 0);
                } catch (SysException ex) {
                    throw failed("cannot set xattr " + x.getKey() + " on " + e.getName(), ex);
                }
            }
            FileTime mtime = e.getLastModifiedTime();
            Instant m = mtime == null ? Instant.EPOCH : mtime.toInstant();
            FileTime atime = e.getLastAccessTime();
            Instant a = atime == null ? m : atime.toInstant();
            sys.lutimensat(parent, base, a.getEpochSecond(), a.getNano(), m.getEpochSecond(), m.getNano());
        }

        private void finishDirectories() throws IOException, SysException {
            List<Map.Entry<String, Pending>> dirs = new ArrayList<>(directories.entrySet());
            // deepest first, so setting a child's times does not disturb its parent's
            dirs.sort((x, y) -> Integer.compare(depth(y.getKey()), depth(x.getKey())));
            for (Map.Entry<String, Pending> d : dirs) {
                List<String> parts = parseName(d.getKey());
                TarArchiveEntry e = d.getValue().entry();
                if (parts.isEmpty()) {
                    metadata(root, ".", e, d.getValue().xattrs(), false);
                    continue;
                }
                int parent = openParent(parts.subList(0, parts.size() - 1), e.getName());
                try {
                    metadata(parent, parts.get(parts.size() - 1), e, d.getValue().xattrs(), false);
                } finally {
                    sys.close(parent);
                }
            }
        }
    }

    private static boolean allZero(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String name) {
        return name.length() <= 200 ? name : name.substring(0, 200) + "... (" + name.length() + " chars)";
    }

    /**
     * A failed system call while writing the layer. Errors of the host (no space, quota, I/O, read-only,
     * out of memory or descriptors) stay IOExceptions; any other errno (ENAMETOOLONG, EEXIST, EINVAL,
     * EPERM for an xattr the filesystem does not take, EMLINK, ...) comes from what the layer asks for,
     * so the layer is refused.
     */
    static IOException failed(String what, SysException ex) {
        switch (ex.errno()) {
            case Errno.ENOSPC, Errno.EIO, Errno.EROFS, Errno.ENOMEM, 122 /* EDQUOT */, 23 /* ENFILE */,
                    24 /* EMFILE */:
                return new IOException(what + ": " + ex.getMessage(), ex);
            default:
                return new LayerFormatException(what + ": " + ex.getMessage(), ex);
        }
    }

    /** A directory entry and its xattrs, kept until its children are written. */
    private record Pending(TarArchiveEntry entry, Map<String, byte[]> xattrs) {
    }

    private static int depth(String key) {
        return key.isEmpty() ? 0 : key.split("/").length;
    }

    /**
     * The entry's xattrs: PAX {@code SCHILY.xattr.NAME} (GNU tar, Docker, buildah; the value is raw
     * bytes, taken from rawPax, the entry's local PAX records as {@link PaxRecords.Recorder} re-read
     * them) and {@code LIBARCHIVE.xattr.NAME} (base64 value, URL-encoded name).
     */
    static Map<String, byte[]> xattrs(TarArchiveEntry e, Map<String, byte[]> rawPax) throws LayerFormatException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            String key = h.getKey();
            if (key.startsWith(SCHILY_XATTR)) {
                byte[] raw = rawPax.get(key);
                if (raw != null) {
                    out.put(key.substring(SCHILY_XATTR.length()), raw);
                    continue;
                }
                String value = h.getValue();
                // not in a local header (a global one): commons-compress decoded it as UTF-8, and a
                // value that was not UTF-8 cannot be recovered exactly; a changed capability is worse
                // than a refusal
                if (value.indexOf('\uFFFD') >= 0) {
                    throw new LayerFormatException("xattr " + key.substring(SCHILY_XATTR.length()) + " on "
                            + e.getName() + " has a binary value that cannot be read exactly");
                }
                out.put(key.substring(SCHILY_XATTR.length()), value.getBytes(StandardCharsets.UTF_8));
            } else if (key.startsWith(LIBARCHIVE_XATTR)) {
                String name = java.net.URLDecoder.decode(key.substring(LIBARCHIVE_XATTR.length()),
                        StandardCharsets.UTF_8);
                try {
                    out.put(name, Base64.getDecoder().decode(h.getValue().trim()));
                } catch (IllegalArgumentException bad) {
                    throw new LayerFormatException("bad base64 in " + key + " on " + e.getName());
                }
            }
        }
        return out;
    }

    /** glibc's makedev for Linux. */
    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }
}
