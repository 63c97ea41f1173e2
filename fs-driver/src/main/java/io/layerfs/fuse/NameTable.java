package io.layerfs.fuse;

/**
 * The set of known names of the node table, keyed by (parent node id, name): open addressing over
 * one array of the entries themselves, so a name costs its entry and one slot (no HashMap node),
 * and a lookup by (parent, name) allocates no key. Grows at 3/4 full, shrinks below 1/8; removal
 * shifts the run back (no tombstones). Not thread-safe.
 */
final class NameTable<E extends NameTable.Key> {
    /** An entry: immutable parent and name. */
    abstract static class Key {
        final long parent;
        final String name;
        final int hash;

        Key(long parent, String name) {
            this.parent = parent;
            this.name = name;
            this.hash = hash(parent, name);
        }

        final boolean is(long parent, String name) {
            return this.parent == parent && this.name.equals(name);
        }
    }

    private static final int MIN_CAPACITY = 64;

    private Object[] slots = new Object[MIN_CAPACITY];
    private int size;

    int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    E get(long parent, String name) {
        int mask = slots.length - 1;
        int h = hash(parent, name);
        for (int i = h & mask; ; i = (i + 1) & mask) {
            E e = (E) slots[i];
            if (e == null) {
                return null;
            }
            if (e.hash == h && e.is(parent, name)) {
                return e;
            }
        }
    }

    /** Adds e, replacing the entry of the same key; returns the one replaced, or null. */
    @SuppressWarnings("unchecked")
    E put(E e) {
        int mask = slots.length - 1;
        int i = e.hash & mask;
        for (; slots[i] != null; i = (i + 1) & mask) {
            E old = (E) slots[i];
            if (old.hash == e.hash && old.is(e.parent, e.name)) {
                slots[i] = e;
                return old;
            }
        }
        slots[i] = e;
        if (++size > slots.length / 4 * 3) {
            resize(slots.length * 2);
        }
        return null;
    }

    /** Removes the entry of (parent, name); returns it, or null. */
    E remove(long parent, String name) {
        E e = get(parent, name);
        if (e != null) {
            removeEntry(e);
        }
        return e;
    }

    /** Removes exactly this entry (not another of the same key); whether it was there. */
    boolean removeEntry(E e) {
        int mask = slots.length - 1;
        for (int i = e.hash & mask; slots[i] != null; i = (i + 1) & mask) {
            if (slots[i] == e) {
                deleteAt(i, mask);
                size--;
                if (size < slots.length / 8 && slots.length > MIN_CAPACITY) {
                    resize(slots.length / 2);
                }
                return true;
            }
        }
        return false;
    }

    private void deleteAt(int gap, int mask) {
        int i = gap;
        while (true) {
            i = (i + 1) & mask;
            Object o = slots[i];
            if (o == null) {
                break;
            }
            if (LongMap.mayFill(gap, i, ((Key) o).hash & mask)) {
                slots[gap] = o;
                gap = i;
            }
        }
        slots[gap] = null;
    }

    private void resize(int capacity) {
        Object[] old = slots;
        slots = new Object[capacity];
        int mask = capacity - 1;
        for (Object o : old) {
            if (o != null) {
                int i = ((Key) o).hash & mask;
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = o;
            }
        }
    }

    /**
     * Mixes both parts: names in different directories are often alike ("f0398" under 200
     * directories), and a plain 31 * parent + name.hashCode() makes them collide by the thousand.
     */
    static int hash(long parent, String name) {
        long h = (parent * 0x9E3779B97F4A7C15L) ^ name.hashCode();
        h *= 0xC2B2AE3D27D4EB4FL;
        return (int) (h ^ (h >>> 32));
    }
}
