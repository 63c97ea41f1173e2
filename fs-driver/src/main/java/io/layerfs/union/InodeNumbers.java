package io.layerfs.union;

import java.util.concurrent.ConcurrentHashMap;

import io.layerfs.sys.Stat;

/**
 * The st_ino the mount shows. An object keeps the inode number of the layer object it came from, so
 * a file keeps its st_ino across copy-up and hard links share one. Filesystems other than the
 * first one seen are told apart by high bits (as overlayfs' xino does), so numbers stay unique
 * within the mount as long as real inode numbers fit in 56 bits.
 */
final class InodeNumbers {
    private static final int DEV_SHIFT = 56;

    private final ConcurrentHashMap<Long, Integer> devIndex = new ConcurrentHashMap<>();
    /** Real number of a copied-up object in the upper -> number of the object it was copied from. */
    private final ConcurrentHashMap<Long, Long> copiedUp = new ConcurrentHashMap<>();

    int devIndex(long dev) {
        return devIndex.computeIfAbsent(dev, d -> devIndex.size());
    }

    private long own(Stat st) {
        return own(st.dev, st.ino);
    }

    private long own(long dev, long ino) {
        int d = devIndex(dev);
        return d == 0 ? ino : ino ^ ((long) d << DEV_SHIFT);
    }

    /** The number shown for an object with this real stat. */
    long of(Stat st) {
        return of(st.dev, st.ino);
    }

    /** The number shown for the object with this real device and inode number. */
    long of(long dev, long ino) {
        long own = own(dev, ino);
        if (copiedUp.isEmpty()) {
            return own;
        }
        Long origin = copiedUp.get(own);
        return origin != null ? origin : own;
    }

    /** Records that upperCopy now stands for the object that showed originNumber. */
    void copiedUp(Stat upperCopy, long originNumber) {
        long own = own(upperCopy);
        if (own != originNumber) {
            copiedUp.put(own, originNumber);
        }
    }

    /** The upper object is gone: its real number may be reused by a new, unrelated object. */
    void forget(Stat upperObject) {
        if (!copiedUp.isEmpty()) {
            copiedUp.remove(own(upperObject));
        }
    }
}
