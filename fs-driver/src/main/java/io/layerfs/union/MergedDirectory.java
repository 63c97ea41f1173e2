package io.layerfs.union;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The listing of a merged directory (overlayfs.rst, "readdir"): every layer's names, top layer
 * first, each name once; whiteouts hide the name in the layers below their own, markers never
 * show. One pass over each layer with a hash set: linear in the total number of names.
 */
final class MergedDirectory {
    private MergedDirectory() {
    }

    /** The st_ino the mount shows for a name found in layer l with real inode number ino. */
    @FunctionalInterface
    interface Numbering {
        long of(Layer l, String name, long ino) throws SysException;
    }

    /** The merged names of dir; with numbers non-null each carries the st_ino the mount shows for it. */
    static List<DirItem> list(Sys sys, Entry dir, Numbering numbers) throws SysException {
        Set<String> seen = new HashSet<>();
        List<DirItem> out = new ArrayList<>();
        List<String> hiddenHere = new ArrayList<>();
        Layer[] layers = dir.dirLayers;
        boolean last = layers.length == 1;
        long withoutWhiteouts = 0;
        String dirRel = dir.rel();
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            hiddenHere.clear();
            boolean markers = false;
            for (DirEntry d : sys.listDir(l.fd, dirRel)) {
                String name = d.name;
                if (Markers.isMarkerName(name)) {
                    markers = true;
                    if (!last && name.length() > Markers.WH_PREFIX.length() && !name.equals(Markers.OPAQUE_FILE)) {
                        hiddenHere.add(name.substring(Markers.WH_PREFIX.length()));
                    }
                    continue;
                }
                if (seen.contains(name)) {
                    continue;
                }
                int type = typeOf(d.type);
                if (d.type == DirEntry.DT_CHR || d.type == DirEntry.DT_UNKNOWN
                        || (d.type == DirEntry.DT_REG && dir.xattrWhiteouts[i])) {
                    String rel = Markers.child(dirRel, name);
                    Stat st = sys.lstatOrNull(l.fd, rel);
                    if (st == null) {
                        continue;
                    }
                    type = st.type();
                    if (Markers.isWhiteoutObject(sys, l, rel, st, dir.xattrWhiteouts[i])) {
                        seen.add(name);
                        continue;
                    }
                }
                seen.add(name);
                out.add(new DirItem(name, type, numbers == null ? 0 : numbers.of(l, name, d.ino)));
            }
            // .wh.NAME hides NAME below its own layer, not beside it
            seen.addAll(hiddenHere);
            if (!markers && !l.upper && i < 64) {
                withoutWhiteouts |= 1L << i;
            }
        }
        if (withoutWhiteouts != 0) {
            dir.listedWithoutWhiteouts |= withoutWhiteouts; // a hint: a bit lost to a race costs a probe
        }
        return out;
    }

    private static int typeOf(int dtype) {
        switch (dtype) {
            case DirEntry.DT_DIR: return Stat.S_IFDIR;
            case DirEntry.DT_REG: return Stat.S_IFREG;
            case DirEntry.DT_LNK: return Stat.S_IFLNK;
            case DirEntry.DT_CHR: return Stat.S_IFCHR;
            case DirEntry.DT_BLK: return Stat.S_IFBLK;
            case DirEntry.DT_FIFO: return Stat.S_IFIFO;
            case DirEntry.DT_SOCK: return Stat.S_IFSOCK;
            default: return 0;
        }
    }

    /** Whether the merged directory shows no name at all (rmdir's test), without building the list. */
    static boolean isEmpty(Sys sys, Entry dir) throws SysException {
        return list(sys, dir, null).isEmpty();
    }
}
