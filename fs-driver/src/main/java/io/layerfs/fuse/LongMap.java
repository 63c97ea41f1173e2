package io.layerfs.fuse;

import java.util.function.ToLongFunction;

/**
 * A map from long to non-null values that carry their key themselves (a node its id, or its inode
 * number): open addressing with linear probing in one array of the values, so an entry costs one
 * slot (about 7 bytes at the usual load) instead of a HashMap node and a boxed Long (56 bytes), or
 * a slot of a parallel key array besides (8 bytes more per slot: 8 MiB for the node table's two
 * maps at 200,000 inodes), and a lookup allocates nothing. The node table holds one entry per
 * kernel inode in each of two of these: 200,000 inodes are 200,000 entries.
 *
 * <p>Grows at 3/4 full, shrinks below 1/8 (never under the initial capacity), so a table that held
 * a big tree gives its memory back when the kernel forgets it. Removal shifts later entries of the
 * run back instead of leaving tombstones. Not thread-safe.
 */
final class LongMap<V> {
    private static final int MIN_CAPACITY = 64;

    private final ToLongFunction<? super V> keyOf;
    private Object[] values;
    private int size;

    /** keyOf gives a value's key; it must not change while the value is in the map. */
    LongMap(ToLongFunction<? super V> keyOf) {
        this.keyOf = keyOf;
        values = new Object[MIN_CAPACITY];
    }

    @SuppressWarnings("unchecked")
    private long keyAt(int i) {
        return keyOf.applyAsLong((V) values[i]);
    }

    int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    V get(long key) {
        int mask = values.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            Object v = values[i];
            if (v == null) {
                return null;
            }
            if (keyOf.applyAsLong((V) v) == key) {
                return (V) v;
            }
        }
    }

    /** Maps value's key to value (not null); returns the value it replaced, or null. */
    @SuppressWarnings("unchecked")
    V put(V value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        long key = keyOf.applyAsLong(value);
        int mask = values.length - 1;
        int i = slot(key, mask);
        for (; values[i] != null; i = (i + 1) & mask) {
            if (keyAt(i) == key) {
                V old = (V) values[i];
                values[i] = value;
                return old;
            }
        }
        values[i] = value;
        if (++size > values.length / 4 * 3) {
            resize(values.length * 2);
        }
        return null;
    }

    /** Removes key; returns its value, or null if it had none. */
    @SuppressWarnings("unchecked")
    V remove(long key) {
        int mask = values.length - 1;
        int i = slot(key, mask);
        while (true) {
            Object v = values[i];
            if (v == null) {
                return null;
            }
            if (keyOf.applyAsLong((V) v) == key) {
                deleteAt(i, mask);
                size--;
                if (size < values.length / 8 && values.length > MIN_CAPACITY) {
                    resize(values.length / 2);
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
            if (mayFill(gap, i, slot(keyAt(i), mask))) {
                values[gap] = v;
                gap = i;
            }
        }
        values[gap] = null;
    }

    /**
     * Linear probing's deletion by backward shift: whether the entry at slot i, whose home slot is
     * home, may move back into the gap, that is, whether its home is not cyclically within (gap, i].
     */
    static boolean mayFill(int gap, int i, int home) {
        return gap <= i ? home <= gap || home > i : home <= gap && home > i;
    }

    @SuppressWarnings("unchecked")
    private void resize(int capacity) {
        Object[] old = values;
        values = new Object[capacity];
        int mask = capacity - 1;
        for (Object v : old) {
            if (v != null) {
                int i = slot(keyOf.applyAsLong((V) v), mask);
                while (values[i] != null) {
                    i = (i + 1) & mask;
                }
                values[i] = v;
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
        return "LongMap(size=" + size + ", capacity=" + values.length + ")";
    }
}
