package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** {@link LongMap} and {@link NameTable} against java.util.HashMap, through random operations. */
class LongMapTest {
    @Test
    void longMap_randomPutGetRemove_matchesHashMap() {
        for (long seed = 1; seed <= 5; seed++) {
            Random rnd = new Random(seed);
            LongMap<Keyed> map = new LongMap<>(Keyed::key);
            Map<Long, Keyed> model = new HashMap<>();
            // keys from a small range collide and form long runs; some far apart and negative
            for (int op = 0; op < 200_000; op++) {
                long key = op % 3 == 0 ? rnd.nextLong() : rnd.nextInt(op < 100_000 ? 5_000 : 300) * 64L;
                int what = rnd.nextInt(10);
                if (what < 5) {
                    Keyed v = new Keyed(key, "v" + op);
                    assertEquals(model.put(key, v), map.put(v), "put " + key);
                } else if (what < 8) {
                    assertEquals(model.remove(key), map.remove(key), "remove " + key);
                } else {
                    assertEquals(model.get(key), map.get(key), "get " + key);
                }
                assertEquals(model.size(), map.size());
            }
            for (Map.Entry<Long, Keyed> e : model.entrySet()) {
                assertEquals(e.getValue(), map.get(e.getKey()));
            }
        }
    }

    @Test
    void longMap_growsAndShrinks_keepingEntries() {
        LongMap<Long> map = new LongMap<>(v -> v);
        for (long k = 0; k < 100_000; k++) {
            map.put(k);
        }
        for (long k = 0; k < 99_990; k++) {
            assertEquals(k, map.remove(k));
        }
        assertEquals(10, map.size());
        assertEquals("LongMap(size=10, capacity=64)", map.toString(), "shrunk back");
        for (long k = 99_990; k < 100_000; k++) {
            assertEquals(k, map.get(k));
        }
        assertNull(map.get(5));
    }

    private record Keyed(long key, String payload) {
    }

    private static final class Item extends NameTable.Key {
        final int value;

        Item(long parent, String name, int value) {
            super(parent, name);
            this.value = value;
        }
    }

    @Test
    void nameTable_randomPutGetRemove_matchesHashMap() {
        Random rnd = new Random(7);
        NameTable<Item> table = new NameTable<>();
        Map<String, Item> model = new HashMap<>();
        for (int op = 0; op < 200_000; op++) {
            long parent = 2 + rnd.nextInt(200);
            String name = String.format("f%04d", rnd.nextInt(op < 100_000 ? 1000 : 50));
            String key = parent + "/" + name;
            int what = rnd.nextInt(10);
            if (what < 5) {
                Item item = new Item(parent, name, op);
                assertEquals(model.put(key, item), table.put(item));
            } else if (what < 8) {
                assertEquals(model.remove(key), table.remove(parent, name));
            } else {
                assertEquals(model.get(key), table.get(parent, name));
            }
            assertEquals(model.size(), table.size());
        }
        for (Item item : model.values()) {
            assertEquals(item, table.get(item.parent, item.name));
            Item other = new Item(item.parent, item.name, -1);
            assertEquals(false, table.removeEntry(other), "only the very entry is removed");
        }
    }

    @Test
    void nameTable_hash_spreadsLikeNamesAcrossDirectories() {
        // 200 directories of f0000..f0999: the names the daemon held when its HashMap turned into trees
        java.util.Set<Integer> hashes = new java.util.HashSet<>();
        for (long parent = 2; parent < 202; parent++) {
            for (int i = 0; i < 1000; i++) {
                hashes.add(NameTable.hash(parent, String.format("f%04d", i)));
            }
        }
        // 200,000 keys into 2^32 hashes: a handful of collisions at most, not thousands
        assertEquals(true, hashes.size() > 199_900, "distinct hashes: " + hashes.size());
    }
}
