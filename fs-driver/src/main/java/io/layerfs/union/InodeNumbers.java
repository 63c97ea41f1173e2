package io.layerfs.union;

import java.util.concurrent.ConcurrentHashMap;

import io.layerfs.sys.Stat;

/**
 * The st_ino the mount shows. An object keeps the inode number of the lower object it came from,
 * so a file keeps its st_ino across copy-up, across unmount and remount of the same upper, and
 * hard links share one. Nothing is stored for this beyond what the upper holds anyway:
 * <ul>
 * <li>a lower object shows its own number;
 * <li>an upper object copied up from a lower shows the number of that lower object (its origin),
 *     found after a remount the way {@link UnionFs} works out origins: a regular file from the
 *     {@code user.fuseoverlayfs.origin} xattr written at copy-up (the lower path, as
 *     fuse-overlayfs writes it), a merged directory from the directory below it; an object made
 *     in the upper shows its own number;
 * <li>a copied-up symlink or special file (which cannot carry a user xattr) keeps its origin's
 *     number until unmount, then shows its own.
 * </ul>
 * No two visible objects share a number: a lower file's copy is linked under all its visible
 * names, and a merged directory hides the lower directory whose number it shows.
 * Layers on other filesystems than the upper are told apart by high bits (as overlayfs' xino
 * does): bits 56 and up hold the index of the filesystem in layer order (upper, then lowers
 * top to bottom), which is the same at every mount of the same stack, so numbers stay unique
 * within the mount as long as real inode numbers fit in 56 bits.
 */
final class InodeNumbers {
    private static final int DEV_SHIFT = 56;

    private final ConcurrentHashMap<Long, Integer> devIndex = new ConcurrentHashMap<>();
    /**
     * Real number of an upper object -> number shown for it, once known: the origin's number, or
     * its own when it has no origin. Filled at copy-up and at the first look at an upper object.
     */
    private final ConcurrentHashMap<Long, Long> upperNumbers = new ConcurrentHashMap<>();

    /** devs: the filesystems of the layers in layer order; their indexes are fixed from the start. */
    InodeNumbers(long... devs) {
        for (long dev : devs) {
            devIndex(dev);
        }
    }

    synchronized int devIndex(long dev) {
        return devIndex.computeIfAbsent(dev, d -> devIndex.size());
    }

    /** The number of the real object itself, whatever it was copied from. */
    long own(Stat st) {
        return own(st.dev, st.ino);
    }

    private long own(long dev, long ino) {
        Integer d = devIndex.get(dev);
        int index = d != null ? d : devIndex(dev);
        return index == 0 ? ino : ino ^ ((long) index << DEV_SHIFT);
    }

    /** The number shown for an object with this real stat, as far as known (see {@link #known}). */
    long of(Stat st) {
        return of(st.dev, st.ino);
    }

    /** The number shown for the object with this real device and inode number. */
    long of(long dev, long ino) {
        long own = own(dev, ino);
        if (upperNumbers.isEmpty()) {
            return own;
        }
        Long shown = upperNumbers.get(own);
        return shown != null ? shown : own;
    }

    /** The number shown for this upper object, or null if nobody has worked it out yet. */
    Long known(long dev, long ino) {
        return upperNumbers.get(own(dev, ino));
    }

    /** Records the number upperObject shows (its origin's, or {@link #own}); returns it. */
    long remember(Stat upperObject, long number) {
        upperNumbers.put(own(upperObject), number);
        return number;
    }

    /** Records that upperCopy now stands for the object that showed originNumber. */
    void copiedUp(Stat upperCopy, long originNumber) {
        remember(upperCopy, originNumber);
    }

    /** The upper object is gone: its real number may be reused by a new, unrelated object. */
    void forget(Stat upperObject) {
        if (!upperNumbers.isEmpty()) {
            upperNumbers.remove(own(upperObject));
        }
    }
}
