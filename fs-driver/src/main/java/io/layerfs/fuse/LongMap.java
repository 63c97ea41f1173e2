package io.layerfs.fuse;

/**
 * A map from long to non-null values: open addressing with linear probing in two parallel arrays,
 * so an entry costs a slot of each (about 20 bytes at the usual load) instead of a HashMap node and
 * a boxed Long (56 bytes), and a lookup allocates nothing. The node table holds one entry per
 * kernel inode in each of two of these: 200,000 inodes are 200,000 entries.
 *
 * <p>Grows at 3/4 full, shrinks below 1/8 (never under the initial capacity), so a table that held
 * a big tree gives its memory back when the kernel forgets it. Removal shifts later entries of the
 * run back instead of leaving tombstones. Not thread-safe.
 */
final class LongMap<V> {
    private static final int MIN_CAPACITY = 64;

    private long[] keys;
    private Object[] values;
    private int size;

    LongMap() {
        keys = new long[MIN_CAPACITY];
        values = new Object[MIN_CAPACITY];
    }

    int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    V get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            Object v = values[i];
            if (v == null) {
                return null;
            }
            if (keys[i] == key) {
                return (V) v;
            }
        }
    }

    /** Maps key to value (not null); returns the value it replaced, or null. */
    @SuppressWarnings("unchecked")
    V put(long key, V value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        for (; values[i] != null; i = (i + 1) & mask) {
            if (keys[i] == key) {
                V old = (V) values[i];
                values[i] = value;
                return old;
            }
        }
        keys[i] = key;
        values[i] = value;
        if (++size > keys.length / 4 * 3) {
            resize(keys.length * 2);
        }
        return null;
    }

    /** Removes key; returns its value, or null if it had none. */
    @SuppressWarnings("unchecked")
    V remove(long key) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (true) {
            Object v = values[i];
            if (v == null) {
                return null;
            }
            if (keys[i] == key) {
                deleteAt(i, mask);
                size--;
                if (size < keys.length / 8 && keys.length > MIN_CAPACITY) {
                    resize(keys.length / 2);
                }
                return (V) v;
            }
            i = (i + 1) & mask;
        }
    }

    /** Empties slot i and moves back every later entry of its run that may live before the gap. */
    private void deleteAt(int gap, int mask) {
        int i = gap;
        while (true) {
            i = (i + 1) & mask;
            Object v = values[i];
            if (v == null) {
                break;
            }
            if (mayFill(gap, i, slot(keys[i], mask))) {
                keys[gap] = keys[i];
                values[gap] = v;
                gap = i;
            }
        }
        values[gap] = null;
        keys[gap] = 0;
    }

    /**
     * Linear probing's deletion by backward shift: whether the entry at slot i, whose home slot is
     * home, may move back into the gap, that is, whether its home is not cyclically within (gap, i].
     */
    static boolean mayFill(int gap, int i, int home) {
        return gap <= i ? home <= gap || home > i : home <= gap && home > i;
    }

    private void resize(int capacity) {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[capacity];
        values = new Object[capacity];
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldValues[j] != null) {
                int i = slot(oldKeys[j], mask);
                while (values[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    /** Fibonacci hashing: node ids and inode numbers are often sequential, and must spread. */
    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    @Override
    public String toString() {
        return "LongMap(size=" + size + ", capacity=" + keys.length + ")";
    }
}
