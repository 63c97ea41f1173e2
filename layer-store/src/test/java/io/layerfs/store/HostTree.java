package io.layerfs.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * Everything observable about a directory tree outside one excluded subtree: per name its type, mode,
 * owner, size, link count, mtime and ctime to the nanosecond, content digest, symlink target and
 * xattrs. ctime moves on any chmod, chown, utimes, link or xattr change, even one that sets the same
 * value again, so two equal snapshots mean nothing was touched, not only that nothing differs.
 */
final class HostTree {
    private HostTree() {
    }

    static Map<String, String> snapshot(Path root, Path excluded) throws IOException {
        Sys sys = Sys.get();
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.startsWith(excluded) && !p.equals(excluded)) {
                    continue;
                }
                try {
                    Stat st = sys.lstat(Sys.AT_FDCWD, p.toString());
                    StringBuilder b = new StringBuilder();
                    b.append(Integer.toOctalString(st.mode)).append(' ').append(st.uid).append(':').append(st.gid)
                            .append(" n").append(st.nlink).append(" m").append(st.mtimeSec).append('.')
                            .append(st.mtimeNsec).append(" c").append(st.ctimeSec).append('.').append(st.ctimeNsec);
                    if (p.equals(excluded)) {
                        // the target itself: only that it is still a directory of this identity
                        out.put(root.relativize(p).toString(), "target ino " + st.ino);
                        continue;
                    }
                    b.append(" s").append(st.size);
                    if (st.type() == Stat.S_IFREG) {
                        b.append(" sha ").append(Digest.sha256(Files.readAllBytes(p)).shortHex());
                    } else if (st.type() == Stat.S_IFLNK) {
                        b.append(" -> ").append(Files.readSymbolicLink(p));
                    }
                    List<String> names = sys.llistxattr(p.toString());
                    for (String x : names.stream().sorted().toList()) {
                        byte[] v = sys.lgetxattr(p.toString(), x);
                        b.append(' ').append(x).append('=').append(v == null ? "-" : java.util.HexFormat.of().formatHex(v));
                    }
                    out.put(root.relativize(p).toString(), b.toString());
                } catch (SysException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        }
        return out;
    }
}
