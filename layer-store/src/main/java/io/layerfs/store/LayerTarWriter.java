package io.layerfs.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Base64;
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
 * {@code .wh..wh..opq}, overlay-private xattrs are dropped, other xattrs go in PAX {@code SCHILY.xattr.*}
 * (or {@code LIBARCHIVE.xattr.*}, base64, when the value is not UTF-8).
 *
 * <p>Deterministic: the same tree gives the same bytes. Entries come depth first with names sorted by
 * their bytes; headers hold numeric uid/gid and no user or group names, mtime in whole seconds, no
 * atime or ctime; hard links are told apart by the order of that walk. So a commit of an unchanged
 * upper yields the same diffID.
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
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
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
                tar.putArchiveEntry(e);
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
            xattrs(p, e);
            tar.putArchiveEntry(e);
            if (e.isFile() && !e.isLink()) {
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
                    tar.putArchiveEntry(o);
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

    private void xattrs(Path p, TarArchiveEntry e) throws IOException {
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
            String text = utf8(x.getValue());
            if (text != null && text.indexOf('\0') < 0) {
                e.addPaxHeader("SCHILY.xattr." + x.getKey(), text);
            } else {
                e.addPaxHeader("LIBARCHIVE.xattr." + java.net.URLEncoder.encode(x.getKey(), StandardCharsets.UTF_8),
                        Base64.getEncoder().encodeToString(x.getValue()));
            }
        }
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
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
