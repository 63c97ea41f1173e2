package io.layerfs.union;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.layerfs.sys.DirEntry;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;

/**
 * The names of multiply-linked files in each lower layer, so that copying one name up can link
 * every other visible name of the same file to the copy (what overlayfs' index=on achieves): a
 * write through one name is then seen through the others, and the upper holds real hard links
 * that any overlay implementation reads back the same way. A layer is walked once, the first
 * time one of its multiply-linked files is copied up; lowers never change, so the index stays true.
 */
final class HardLinks {
    private final Sys sys;
    // per lower layer index: inode -> relative paths of its names in that layer
    private final ConcurrentHashMap<Integer, Map<Long, List<String>>> byLayer = new ConcurrentHashMap<>();

    HardLinks(Sys sys) {
        this.sys = sys;
    }

    /** Relative paths of all names of inode ino in layer (a lower). */
    List<String> namesOf(Layer layer, long ino) throws SysException {
        Map<Long, List<String>> index = byLayer.get(layer.index);
        if (index == null) {
            index = new HashMap<>();
            walk(layer, ".", index);
            byLayer.put(layer.index, index);
        }
        return index.getOrDefault(ino, List.of());
    }

    private void walk(Layer layer, String rel, Map<Long, List<String>> index) throws SysException {
        for (DirEntry d : sys.listDir(layer.fd, rel)) {
            String child = Markers.child(rel, d.name);
            if (d.type == DirEntry.DT_DIR) {
                walk(layer, child, index);
            } else if (d.type != DirEntry.DT_LNK) {
                Stat st = sys.lstatOrNull(layer.fd, child);
                if (st == null) {
                    continue;
                }
                if (st.isDirectory()) {
                    walk(layer, child, index);
                } else if (st.nlink > 1) {
                    index.computeIfAbsent(st.ino, k -> new ArrayList<>(2)).add(child);
                }
            }
        }
    }
}
