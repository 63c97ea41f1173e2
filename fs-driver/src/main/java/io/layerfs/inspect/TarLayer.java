package io.layerfs.inspect;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

import io.layerfs.sys.Stat;
import io.layerfs.union.Markers;

/**
 * A layer tar (OCI image spec, layer.md "Changesets"), plain, gzip, bzip2 or zstd, indexed in memory
 * without its file data: every entry's type, mode, owner, size, device number, link target and
 * xattrs (PAX {@code SCHILY.xattr.NAME}, as GNU tar and Go's archive/tar write them, or
 * {@code LIBARCHIVE.xattr.NAME} with base64 values). Directories that the tar implies but does not
 * list are added. Later entries replace earlier ones of the same name, as extracting does.
 *
 * <p>Names are cleaned of "./" and leading "/"; an entry whose name leaves the layer ("..") is
 * refused, as an extractor must.
 */
final class TarLayer extends LayerReader {
    private static final String SCHILY = "SCHILY.xattr.";
    private static final String LIBARCHIVE = "LIBARCHIVE.xattr.";

    /** @param sha256 a regular file's content digest, if asked for; else null */
    private record Node(Stat stat, String linkTarget, Map<String, byte[]> xattrs, byte[] sha256) {
    }

    private final Map<String, Node> nodes;
    private final Map<String, TreeSet<String>> children;
    private final List<String> entriesUnderNonDirectories;

    private TarLayer(LayerRef ref, Map<String, Node> nodes, Map<String, TreeSet<String>> children,
                     List<String> entriesUnderNonDirectories) {
        super(ref);
        this.nodes = nodes;
        this.children = children;
        this.entriesUnderNonDirectories = entriesUnderNonDirectories;
    }

    static TarLayer read(LayerRef ref) throws IOException {
        return read(ref, false);
    }

    /** @param digests whether to hash each regular file's content (read anyway, to get past it) */
    static TarLayer read(LayerRef ref, boolean digests) throws IOException {
        Map<String, Node> nodes = new HashMap<>();
        Map<String, TreeSet<String>> children = new HashMap<>();
        nodes.put(".", new Node(stat(Stat.S_IFDIR | 0755, 0, 0, 0, 0, 0), null, Map.of(), null));
        children.put(".", new TreeSet<>());
        List<Node> inOrder = new ArrayList<>();
        java.util.Set<String> nonDirectories = new java.util.HashSet<>();
        List<String> entries = new ArrayList<>();
        boolean xattrWhiteoutsPossible = false;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(ref.root()));
             TarArchiveInputStream tar = new TarArchiveInputStream(decompressed(raw, ref.root()))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String rel = clean(e.getName(), ref.root());
                Node node = node(e, nodes, rel, digests ? tar : null);
                inOrder.add(node);
                if (node == null) {
                    continue;
                }
                entries.add(rel);
                if (!node.stat.isDirectory()) {
                    nonDirectories.add(rel);
                }
                for (Map.Entry<String, byte[]> x : node.xattrs.entrySet()) {
                    xattrWhiteoutsPossible |= Markers.announcesXattrWhiteouts(x.getKey(), x.getValue());
                }
                if (!".".equals(rel)) {
                    addParents(rel, nodes, children);
                    children.get(parent(rel)).add(name(rel));
                }
                nodes.put(rel, node);
                if (node.stat.isDirectory()) {
                    children.computeIfAbsent(rel, k -> new TreeSet<>());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(ref.root() + ": not a readable tar: " + e.getMessage(), e);
        }
        if (xattrWhiteoutsPossible) {
            addEmptyXattrs(ref.root(), inOrder);
        }
        List<String> under = new ArrayList<>();
        for (String rel : entries) {
            for (String p = parent(rel); !".".equals(p); p = parent(p)) {
                if (nonDirectories.contains(p)) {
                    under.add(rel);
                    break;
                }
            }
        }
        return new TarLayer(ref, nodes, children, List.copyOf(under));
    }

    /**
     * An xattr whiteout's xattr has an empty value, and PAX says an empty value deletes the keyword,
     * so commons-compress drops it; GNU tar writes it and restores it. This pass reads the PAX
     * records itself (POSIX.1-2001 pax format: "LEN KEY=VALUE\n" records in typeflag 'x' entries)
     * and gives the n-th file entry back the xattrs its header set to "".
     */
    private static void addEmptyXattrs(Path file, List<Node> inOrder) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
             InputStream in = decompressed(raw, file)) {
            byte[] header = new byte[512];
            List<String> pending = new ArrayList<>();
            int index = 0;
            while (in.readNBytes(header, 0, 512) == 512 && !allZero(header)) {
                long size = octal(header, 124, 12);
                long padded = (size + 511) / 512 * 512;
                byte type = header[156];
                if (type == 'x') {
                    byte[] data = in.readNBytes((int) size);
                    in.skipNBytes(padded - size);
                    pending.addAll(emptyXattrKeys(new String(data, StandardCharsets.UTF_8)));
                    continue;
                }
                in.skipNBytes(padded);
                if (type == 'g' || type == 'L' || type == 'K') {
                    continue;
                }
                if (index < inOrder.size() && inOrder.get(index) != null) {
                    for (String name : pending) {
                        inOrder.get(index).xattrs.put(name, new byte[0]);
                    }
                }
                pending.clear();
                index++;
            }
        }
    }

    private static List<String> emptyXattrKeys(String records) {
        List<String> out = new ArrayList<>();
        for (String line : records.split("\n")) {
            int space = line.indexOf(' ');
            int eq = line.indexOf('=');
            if (space < 0 || eq < space || eq != line.length() - 1) {
                continue;
            }
            String key = line.substring(space + 1, eq);
            if (key.startsWith(SCHILY)) {
                out.add(key.substring(SCHILY.length()));
            } else if (key.startsWith(LIBARCHIVE)) {
                out.add(URLDecoder.decode(key.substring(LIBARCHIVE.length()), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** A numeric header field: octal digits, or base-256 when the first byte's high bit is set. */
    private static long octal(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            long v = 0;
            for (int i = off + 1; i < off + len; i++) {
                v = (v << 8) | (h[i] & 0xff);
            }
            return v;
        }
        long v = 0;
        boolean digits = false;
        for (int i = off; i < off + len; i++) {
            byte c = h[i];
            if (c >= '0' && c <= '7') {
                v = v * 8 + (c - '0');
                digits = true;
            } else if (digits || (c != ' ' && c != 0)) {
                break;
            }
        }
        return v;
    }

    /** Chosen by magic number, not by file name: gzip 1f 8b, bzip2 "BZh", zstd 28 b5 2f fd (RFC 8878). */
    private static InputStream decompressed(InputStream in, Path file) throws IOException {
        in.mark(8);
        byte[] magic = in.readNBytes(6);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GzipCompressorInputStream(in, true);
        }
        if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            return new BZip2CompressorInputStream(in, true);
        }
        if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return new ZstdCompressorInputStream(in);
        }
        if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z') {
            throw new IOException(file + " is xz-compressed, which layerfs cannot read yet; decompress it first (xz -d)");
        }
        return in;
    }

    /** The entry's name inside the layer ("." for the root), or an IOException if it escapes. */
    static String clean(String name, Path file) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                throw new IOException(file + ": entry " + name + " leaves the layer");
            }
            parts.add(c);
        }
        return parts.isEmpty() ? "." : String.join("/", parts);
    }

    /** @param content the stream at e's data, to hash a regular file's content; null not to */
    private static Node node(TarArchiveEntry e, Map<String, Node> nodes, String rel, InputStream content)
            throws IOException {
        int perm = e.getMode() & 07777;
        int type;
        String link = null;
        long size = 0;
        long rdev = 0;
        if (e.isDirectory()) {
            type = Stat.S_IFDIR;
        } else if (e.isSymbolicLink()) {
            type = Stat.S_IFLNK;
            link = e.getLinkName();
            size = link.length();
        } else if (e.isLink()) {
            Node target = nodes.get(clean(e.getLinkName(), Path.of(e.getName())));
            return target; // a hard link is the same object under another name
        } else if (e.isCharacterDevice() || e.isBlockDevice()) {
            type = e.isCharacterDevice() ? Stat.S_IFCHR : Stat.S_IFBLK;
            rdev = makedev(e.getDevMajor(), e.getDevMinor());
        } else if (e.isFIFO()) {
            type = Stat.S_IFIFO;
        } else if (e.isFile()) {
            type = Stat.S_IFREG;
            size = e.getSize();
        } else {
            return null; // PAX/GNU metadata entries are consumed by the stream; anything else is not a file
        }
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            String k = h.getKey();
            if (k.startsWith(SCHILY)) {
                xattrs.put(k.substring(SCHILY.length()), h.getValue().getBytes(StandardCharsets.UTF_8));
            } else if (k.startsWith(LIBARCHIVE)) {
                String n = URLDecoder.decode(k.substring(LIBARCHIVE.length()), StandardCharsets.UTF_8);
                try {
                    xattrs.put(n, Base64.getDecoder().decode(h.getValue().trim()));
                } catch (IllegalArgumentException notBase64) {
                    xattrs.put(n, h.getValue().getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        long mtime = e.getModTime() == null ? 0 : e.getModTime().getTime() / 1000;
        Stat st = new Stat(0, 0, 1, type | perm, (int) e.getLongUserId(), (int) e.getLongGroupId(), rdev, size,
                4096, 0, mtime, 0, mtime, 0, mtime, 0);
        byte[] sha256 = content != null && type == Stat.S_IFREG ? sha256(content) : null;
        return new Node(st, link, xattrs, sha256);
    }

    private static byte[] sha256(InputStream in) throws IOException {
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        return md.digest();
    }

    private static void addParents(String rel, Map<String, Node> nodes, Map<String, TreeSet<String>> children) {
        String p = parent(rel);
        if (children.containsKey(p) && nodes.containsKey(p)) {
            return;
        }
        addParents(p, nodes, children);
        if (!nodes.containsKey(p) || !nodes.get(p).stat.isDirectory()) {
            nodes.put(p, new Node(stat(Stat.S_IFDIR | 0755, 0, 0, 0, 0, 0), null, Map.of(), null));
        }
        children.computeIfAbsent(p, k -> new TreeSet<>());
        if (!".".equals(p)) {
            children.get(parent(p)).add(name(p));
        }
    }

    private static Stat stat(int mode, int uid, int gid, long rdev, long size, long mtime) {
        return new Stat(0, 0, 1, mode, uid, gid, rdev, size, 4096, 0, mtime, 0, mtime, 0, mtime, 0);
    }

    static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
    }

    /** The SHA-256 of a regular file's content, if the tar was read with digests; else null. */
    byte[] sha256(String rel) {
        Node n = nodes.get(rel);
        return n == null ? null : n.sha256;
    }

    /**
     * Entries whose path goes through a name that the tar also has as a non-directory (a file "a"
     * and "a/.wh..wh..opq"): extracting them fails or replaces the file, depending on the order and
     * the tool. In path order of the tar.
     */
    List<String> entriesUnderNonDirectories() {
        return entriesUnderNonDirectories;
    }

    @Override
    Stat stat(String rel) {
        Node n = nodes.get(rel);
        return n == null ? null : n.stat;
    }

    @Override
    String readlink(String rel) throws IOException {
        Node n = nodes.get(rel);
        if (n == null || n.linkTarget == null) {
            throw new IOException(ref.root() + ": " + rel + " is not a symbolic link");
        }
        return n.linkTarget;
    }

    @Override
    List<String> list(String rel) {
        TreeSet<String> c = children.get(rel);
        return c == null ? List.of() : List.copyOf(c);
    }

    @Override
    List<String> xattrNames(String rel) {
        Node n = nodes.get(rel);
        return n == null ? List.of() : List.copyOf(n.xattrs.keySet());
    }

    @Override
    byte[] xattr(String rel, String name) {
        Node n = nodes.get(rel);
        return n == null ? null : n.xattrs.get(name);
    }
}
