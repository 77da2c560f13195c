package dev.warden.policy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bounded verdict cache without locks: two generations of ConcurrentHashMap. New entries go to the
 * young generation; when it reaches half the capacity it becomes the old one and the previous old
 * generation is dropped. A hit in the old generation is copied to the young one, so entries in use
 * survive (an approximate LRU). Event-loop threads therefore never wait on one another here.
 */
final class VerdictCache<K, V> {
    private record Generations<K, V>(ConcurrentHashMap<K, V> young, ConcurrentHashMap<K, V> old) {
    }

    private final int half;
    private final AtomicReference<Generations<K, V>> gens = new AtomicReference<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    VerdictCache(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be at least 2");
        }
        this.half = capacity / 2;
        clear();
    }

    V get(K key) {
        Generations<K, V> g = gens.get();
        V v = g.young.get(key);
        if (v == null) {
            v = g.old.get(key);
            if (v != null) {
                put(key, v);
            }
        }
        (v == null ? misses : hits).increment();
        return v;
    }

    void put(K key, V value) {
        Generations<K, V> g = gens.get();
        g.young.put(key, value);
        if (g.young.size() >= half) {
            // only one thread wins the rotation; the others' entries land in either generation, both fine
            gens.compareAndSet(g, new Generations<>(new ConcurrentHashMap<>(), g.young));
        }
    }

    void clear() {
        gens.set(new Generations<>(new ConcurrentHashMap<>(), new ConcurrentHashMap<>()));
    }

    int size() {
        Generations<K, V> g = gens.get();
        return g.young.size() + g.old.size();
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }
}
