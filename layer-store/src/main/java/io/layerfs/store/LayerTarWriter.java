package io.layerfs.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Writes a layer directory in overlay format (a container's upper) as an OCI layer tar (image-spec
 * layer.md): a 0/0 whiteout becomes an empty {@code .wh.NAME}, an opaque directory is followed by
 * {@code .wh..wh..opq}, overlay-private xattrs are dropped, other xattrs go in PAX
 * {@code SCHILY.xattr.*} with their raw bytes (binary values such as capabilities included, as GNU tar
 * and Go's archive/tar write and read them).
 *
 * <p>PAX headers are written here, not by commons-compress, whose PAX values are Strings (UTF-8) and
 * whose times stop at 100 ns: an entry that needs one gets exactly one local PAX header with, sorted
 * by key, its xattrs, its mtime with nanoseconds ({@code mtime=SECONDS.FRACTION}, trailing zeros
 * dropped, left out for whole seconds), and path, linkpath, size, uid, gid where the ustar fields
 * cannot hold them. commons-compress then writes only the ustar header (names truncated, big numbers
 * in base-256), which readers take as overridden by the PAX records.
 *
 * <p>Deterministic: the same tree gives the same bytes. Entries come depth first with names sorted by
 * their bytes; headers hold numeric uid/gid and no user or group names, no atime or ctime; hard links
 * are told apart by the order of that walk. So a commit of an unchanged upper yields the same diffID.
 */
final class LayerTarWriter {
    /** What was written: its sha256 (the diffID, as the tar is not compressed) and size. */
    record Written(Digest diffId, long size) {
    }

    private final Sys sys = Sys.get();
    private final TarArchiveOutputStream tar;
    private final Map<String, String> firstLinkName = new HashMap<>();

    private LayerTarWriter(TarArchiveOutputStream tar) {
        this.tar = tar;
    }

    static Written write(Path layerDir, OutputStream raw) throws IOException {
        MessageDigest sha = Digest.newSha256();
        CountingOutputStream counted = new CountingOutputStream(new DigestOutputStream(raw, sha));
        TarArchiveOutputStream tar = new TarArchiveOutputStream(counted, StandardCharsets.UTF_8.name());
        // the PAX header comes from put(); commons-compress must add none of its own
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_TRUNCATE);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
        tar.setAddPaxHeadersForNonAsciiNames(false);
        new LayerTarWriter(tar).dir(layerDir, "");
        tar.finish();
        tar.flush();
        return new Written(Digest.of(sha.digest()), counted.count);
    }

    private void dir(Path dir, String rel) throws IOException {
        for (String name : UpperTree.names(dir)) {
            Path p = dir.resolve(name);
            String path = rel + name;
            Stat st = UpperTree.lstat(p);
            int type = st.mode & Stat.S_IFMT;
            if (UpperTree.isWhiteout(st)) {
                TarArchiveEntry e = entry(rel + UpperTree.WH_PREFIX + name, TarConstants.LF_NORMAL);
                e.setMode(0);
                e.setModTime(0);
                put(e, new TreeMap<>());
                tar.closeArchiveEntry();
                continue;
            }
            if (type == Stat.S_IFSOCK) {
                continue; // sockets have no tar form (image-spec layer.md lists none)
            }
            TarArchiveEntry e;
            String linkKey = st.dev + ":" + st.ino;
            if (type != Stat.S_IFDIR && st.nlink > 1 && firstLinkName.containsKey(linkKey)) {
                e = entry(path, TarConstants.LF_LINK);
                e.setLinkName(firstLinkName.get(linkKey));
            } else {
                switch (type) {
                    case Stat.S_IFDIR -> e = entry(path + "/", TarConstants.LF_DIR);
                    case Stat.S_IFREG -> {
                        e = entry(path, TarConstants.LF_NORMAL);
                        e.setSize(st.size);
                    }
                    case Stat.S_IFLNK -> {
                        e = entry(path, TarConstants.LF_SYMLINK);
                        e.setLinkName(readlink(p));
                    }
                    case Stat.S_IFCHR, Stat.S_IFBLK -> {
                        e = entry(path, type == Stat.S_IFCHR ? TarConstants.LF_CHR : TarConstants.LF_BLK);
                        e.setDevMajor((int) (((st.rdev >>> 8) & 0xfff) | ((st.rdev >>> 32) & ~0xfffL)));
                        e.setDevMinor((int) ((st.rdev & 0xff) | ((st.rdev >>> 12) & ~0xffL)));
                    }
                    case Stat.S_IFIFO -> e = entry(path, TarConstants.LF_FIFO);
                    default -> throw new IOException("cannot put " + p + " in a layer: file type " + type);
                }
                if (type != Stat.S_IFDIR && st.nlink > 1) {
                    firstLinkName.put(linkKey, path);
                }
            }
            e.setMode(st.mode & 07777);
            e.setIds(st.uid, st.gid);
            e.setModTime(st.mtimeSec * 1000L);
            Map<String, byte[]> pax = new TreeMap<>();
            xattrs(p, pax);
            if (st.mtimeNsec != 0) {
                pax.put("mtime", decimalSeconds(st.mtimeSec, st.mtimeNsec).getBytes(StandardCharsets.US_ASCII));
            }
            put(e, pax);
            if (type == Stat.S_IFREG && !e.isLink()) { // not isFile(): that is true for symlinks too
                try (InputStream in = Files.newInputStream(p)) {
                    long n = in.transferTo(tar);
                    if (n != st.size) {
                        throw new IOException(p + " changed size while it was committed");
                    }
                }
            }
            tar.closeArchiveEntry();
            if (type == Stat.S_IFDIR) {
                if (UpperTree.isOpaque(p) && UpperTree.lstat(p.resolve(UpperTree.OPAQUE_FILE)) == null) {
                    // image-spec layer.md "Opaque Whiteout": the marker hides the lower siblings; it comes
                    // right after its directory, before anything the upper adds there
                    TarArchiveEntry o = entry(path + "/" + UpperTree.OPAQUE_FILE, TarConstants.LF_NORMAL);
                    o.setMode(0);
                    o.setModTime(0);
                    put(o, new TreeMap<>());
                    tar.closeArchiveEntry();
                }
                dir(p, path + "/");
            }
        }
    }

    private static TarArchiveEntry entry(String name, byte flag) {
        TarArchiveEntry e = new TarArchiveEntry(name, flag, true);
        e.setUserName("");
        e.setGroupName("");
        e.setIds(0, 0);
        return e;
    }

    private String readlink(Path p) throws IOException {
        try {
            return sys.readlinkat(Sys.AT_FDCWD, p.toString());
        } catch (SysException e) {
            throw new IOException("cannot read link " + p + ": " + e.getMessage(), e);
        }
    }

    /** The limits of ustar's octal fields: size 11 digits, uid and gid 7. */
    private static final long USTAR_MAX_SIZE = 077777777777L;
    private static final long USTAR_MAX_ID = 07777777L;

    /**
     * Writes e's header, preceded by one local PAX header ('x') holding pax plus the records e's
     * ustar fields cannot hold, if there are any.
     */
    private void put(TarArchiveEntry e, Map<String, byte[]> pax) throws IOException {
        if (needsPax(e.getName())) {
            pax.put("path", e.getName().getBytes(StandardCharsets.UTF_8));
        }
        if (!e.getLinkName().isEmpty() && needsPax(e.getLinkName())) {
            pax.put("linkpath", e.getLinkName().getBytes(StandardCharsets.UTF_8));
        }
        if (e.getSize() > USTAR_MAX_SIZE) {
            pax.put("size", String.valueOf(e.getSize()).getBytes(StandardCharsets.US_ASCII));
        }
        if (e.getLongUserId() > USTAR_MAX_ID) {
            pax.put("uid", String.valueOf(e.getLongUserId()).getBytes(StandardCharsets.US_ASCII));
        }
        if (e.getLongGroupId() > USTAR_MAX_ID) {
            pax.put("gid", String.valueOf(e.getLongGroupId()).getBytes(StandardCharsets.US_ASCII));
        }
        if (!pax.isEmpty()) {
            byte[] data = PaxRecords.encode(pax);
            // named as GNU tar names them: DIR/PaxHeaders/BASE (readers ignore the name)
            String base = e.getName().replaceAll("/+$", "");
            String dir = base.contains("/") ? base.substring(0, base.lastIndexOf('/') + 1) : "";
            String paxName = ascii(dir + "PaxHeaders/" + base.substring(dir.length()));
            TarArchiveEntry x = entry(paxName.length() > 99 ? paxName.substring(0, 99) : paxName,
                    TarConstants.LF_PAX_EXTENDED_HEADER_LC);
            x.setMode(0644);
            x.setModTime(0);
            x.setSize(data.length);
            tar.putArchiveEntry(x);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        tar.putArchiveEntry(e);
    }

    /** A name the ustar name field (100 bytes, written as-is) cannot hold exactly. */
    private static boolean needsPax(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length >= 100 || !ascii(name).equals(name);
    }

    /** name with every non-printable-ASCII character replaced by '_'. */
    private static String ascii(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '_');
        }
        return sb.toString();
    }

    /** PAX decimal seconds (pax "mtime"): "1614834367.1234567" — all nine digits, trailing zeros dropped. */
    static String decimalSeconds(long seconds, long nanos) {
        if (nanos == 0) {
            return String.valueOf(seconds);
        }
        String fraction = String.format(java.util.Locale.ROOT, "%09d", nanos).replaceAll("0+$", "");
        if (seconds < 0) {
            // PAX times are decimal: -1.5 is half a second before -1; stat gives (-2, 500000000)
            return java.math.BigDecimal.valueOf(seconds).add(new java.math.BigDecimal("0." + fraction))
                    .toPlainString();
        }
        return seconds + "." + fraction;
    }

    private void xattrs(Path p, Map<String, byte[]> pax) throws IOException {
        Map<String, byte[]> values = new TreeMap<>();
        try {
            List<String> names = sys.llistxattr(p.toString());
            for (String n : names) {
                if (!UpperTree.isPrivateXattr(n)) {
                    byte[] v = sys.lgetxattr(p.toString(), n);
                    if (v != null) {
                        values.put(n, v);
                    }
                }
            }
        } catch (SysException ex) {
            throw new IOException("cannot read xattrs of " + p + ": " + ex.getMessage(), ex);
        }
        for (Map.Entry<String, byte[]> x : values.entrySet()) {
            pax.put("SCHILY.xattr." + x.getKey(), x.getValue());
        }
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
